"""Is this number or staff number ours? (R5.3) From the policy's official numbers and the staff
numbers (工号, `users.badge`) of the user directory.

A staff number is public (printed on the staff card) and unrelated to the sign-in name; the check
accepts only the staff number's shape (two letters and digits), so a sign-in name is never looked
up, and its answer names neither the sign-in name nor the role.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.assistant.service._common import policy
from lenddesk.core.errors import Unprocessable
from lenddesk.core.models import User
from lenddesk.desk import service as desk

# Staff who may call or message a borrower; QA and compliance never do.
CONTACT_ROLES = ("agent", "collector", "team_lead")
BADGE = re.compile(r"[A-Z]{2}\d{4,10}")
ADVICE = "官方人员不会索要验证码或密码，不会要求转账到个人账户或「安全账户」，不会让您下载会议或远程软件。"


@dataclass(frozen=True)
class OfficialCheck:
    kind: str  # phone, badge
    value: str
    official: bool
    description: str
    advice: str = ADVICE


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def official_numbers() -> list[str]:
    return list(dict.fromkeys([desk.desk_policy().hotline, *policy().official_numbers]))


def check_phone(phone: str) -> OfficialCheck:
    digits = _digits(phone)
    if not 3 <= len(digits) <= 20:
        raise Unprocessable("号码格式不正确", "Not a phone number", code="bad_phone")
    official = any(digits == _digits(number) for number in official_numbers())
    description = "是我们的官方号码" if official else "不是我们的官方号码，请勿按对方要求操作"
    return OfficialCheck("phone", digits, official, description)


def is_badge(value: str) -> bool:
    return BADGE.fullmatch(value.strip().upper()) is not None


def check_badge(session: Session, badge: str) -> OfficialCheck:
    wanted = badge.strip().upper()
    if not BADGE.fullmatch(wanted):
        raise Unprocessable(
            "工号格式不正确（两位字母加数字，如 LD000123）",
            "Not a staff number (two letters and digits, e.g. LD000123)",
            code="bad_badge",
        )
    found = session.scalar(
        select(User.id).where(User.badge == wanted, User.active.is_(True), User.role.in_(CONTACT_ROLES))
    )
    if found is None:
        return OfficialCheck("badge", wanted, False, "查无此工号，对方很可能不是我们的工作人员")
    return OfficialCheck("badge", wanted, True, "是我们在职的工作人员")


def answer_in_chat(session: Session, *, numbers: Sequence[str], agent_ids: Sequence[str]) -> str:
    lines = [f"号码 {c.value}：{c.description}。" for c in map(check_phone, numbers[:3])]
    for named in agent_ids[:3]:
        if is_badge(named):
            check = check_badge(session, named)
            lines.append(f"工号 {check.value}：{check.description}。")
        else:  # never looked up: a sign-in name is not a staff number
            lines.append(f"“{named}”不是我们的工号格式（两位字母加数字），对方很可能不是我们的工作人员。")
    lines.append(f"官方客服电话：{'、'.join(official_numbers())}。{ADVICE}")
    return "\n".join(lines)
