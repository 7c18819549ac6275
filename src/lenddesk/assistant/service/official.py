"""Is this number or agent ID ours? (R5.3) From the policy's official numbers and the user directory."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.assistant.service._common import policy
from lenddesk.core.auth import ROLE_LABELS_ZH
from lenddesk.core.errors import Unprocessable
from lenddesk.core.models import User
from lenddesk.desk import service as desk

# Staff who may call or message a borrower; QA and compliance never do.
CONTACT_ROLES = ("agent", "collector", "team_lead")
ADVICE = "官方人员不会索要验证码或密码，不会要求转账到个人账户或「安全账户」，不会让您下载会议或远程软件。"


@dataclass(frozen=True)
class OfficialCheck:
    kind: str  # phone, agent_id
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


def check_agent_id(session: Session, agent_id: str) -> OfficialCheck:
    wanted = agent_id.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", wanted):
        raise Unprocessable("工号格式不正确", "Not an agent ID", code="bad_agent_id")
    user = session.scalar(
        select(User).where(
            func.lower(User.username) == wanted.lower(), User.active.is_(True), User.role.in_(CONTACT_ROLES)
        )
    )
    if user is None:
        return OfficialCheck("agent_id", wanted, False, "查无此工号，对方很可能不是我们的工作人员")
    return OfficialCheck("agent_id", wanted, True, f"是我们在职的{ROLE_LABELS_ZH[user.role]}")


def answer_in_chat(session: Session, *, numbers: Sequence[str], agent_ids: Sequence[str]) -> str:
    lines = [f"号码 {c.value}：{c.description}。" for c in map(check_phone, numbers[:3])]
    lines += [
        f"工号 {c.value}：{c.description}。" for c in (check_agent_id(session, a) for a in agent_ids[:3])
    ]
    lines.append(f"官方客服电话：{'、'.join(official_numbers())}。{ADVICE}")
    return "\n".join(lines)
