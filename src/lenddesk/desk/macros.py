"""Canned replies with variables, and the verification levels that keep account data from unverified
contacts. Pure.

A macro body uses `{variable}` placeholders. Account variables (name, amounts, dates, contract
numbers) are filled only when the ticket's verification level reaches the level the policy
requires; below it, the filled text and free-text replies are scanned by `desk/disclosure.py`.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from lenddesk.core.errors import Forbidden, Unprocessable

LEVELS = ("none", "basic", "strong")
LEVEL_LABELS = {"none": "未验证", "basic": "基础验证", "strong": "强验证"}

# Variables that reveal the account: refused below the policy's account_detail_level.
ACCOUNT_VARIABLES: dict[str, str] = {
    "borrower_name": "借款人姓名",
    "contract_number": "合同编号",
    "amount_due": "本期应还金额",
    "due_date": "本期还款日",
    "overdue_amount": "逾期金额",
    "outstanding_principal": "剩余本金",
}
PUBLIC_VARIABLES: dict[str, str] = {
    "ticket_number": "工单号",
    "agent_name": "客服姓名",
    "hotline": "客服热线",
}
VARIABLES = {**ACCOUNT_VARIABLES, **PUBLIC_VARIABLES}


class VerificationRequired(Forbidden):
    default_code = "verification_required"


def level_allows(have: str, need: str) -> bool:
    return LEVELS.index(have) >= LEVELS.index(need)


def require_level(have: str, need: str, what_zh: str, what_en: str) -> None:
    if not level_allows(have, need):
        raise VerificationRequired(
            f"{what_zh}需要先完成{LEVEL_LABELS[need]}（当前：{LEVEL_LABELS[have]}）",
            f"{what_en} needs identity verification level {need} (the ticket has {have})",
            details={"required": need, "current": have},
        )


def variables_in(template: str) -> list[str]:
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as exc:
        raise Unprocessable(
            "快捷回复模板格式错误（花括号不匹配）",
            "Malformed macro template (unbalanced braces)",
            code="macro_malformed",
        ) from exc
    unknown = [name for name in names if name not in VARIABLES]
    if unknown:
        raise Unprocessable(
            f"快捷回复含未知变量：{'、'.join(unknown)}",
            f"The macro uses unknown variables: {', '.join(unknown)}",
            code="macro_unknown_variable",
        )
    return names


def needs_account_level(template: str) -> bool:
    return any(name in ACCOUNT_VARIABLES for name in variables_in(template))


def fill(template: str, values: Mapping[str, str], *, level: str, required_level: str) -> str:
    """Fill a macro. Refuses account variables below `required_level`, and missing values."""
    names = variables_in(template)
    if any(name in ACCOUNT_VARIABLES for name in names):
        require_level(level, required_level, "使用含账户信息的快捷回复", "A macro with account details")
    missing = [name for name in names if values.get(name) in (None, "")]
    if missing:
        raise Unprocessable(
            f"无法填写快捷回复变量：{'、'.join(VARIABLES[n] for n in missing)}",
            f"No value for macro variables: {', '.join(missing)}",
            code="macro_value_missing",
        )
    return template.format_map({name: values[name] for name in names})


def verification_current(
    verified_at: datetime, inbound_at: Iterable[datetime], now: datetime, idle: timedelta
) -> bool:
    """Whether a verification made at `verified_at` still holds at `now`.

    It holds while the borrower never went `idle` without a message on the ticket (`inbound_at`, their
    messages' times). A gap once passed is final: a later message (caller ID can be spoofed) does
    not bring the verification back.
    """
    last = verified_at
    for at in sorted(t for t in inbound_at if verified_at < t <= now):
        if at - last > idle:
            return False
        last = at
    return now - last <= idle
