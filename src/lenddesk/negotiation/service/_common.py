"""Constants and input checks shared by the negotiation use cases."""

from __future__ import annotations

import unicodedata

from lenddesk.core.errors import Unprocessable
from lenddesk.core.money import MAX_AMOUNT_FEN
from lenddesk.negotiation import plans

LEVEL_OF_ROLE = {
    "agent": "agent",
    "collector": "agent",
    "team_lead": "team_lead",
    "compliance": "compliance",
    "admin": "compliance",
}
CHANNELS_ZH = {
    "phone": "电话",
    "chat": "在线客服",
    "email": "电子邮件",
    "wechat": "微信",
    "sms": "短信",
    "web_form": "网页表单",
    "api": "接口",
}
LENDER_NAME = "本公司"
_MAX_TEXT = 2000


# --- input checks ----------------------------------------------------------------------------------


def _text(
    value: str | None, what_zh: str, what_en: str, *, required: bool, max_length: int = _MAX_TEXT
) -> str:
    cleaned = unicodedata.normalize("NFKC", value or "").strip()
    if any("\ud800" <= char <= "\udfff" for char in cleaned) or "\x00" in cleaned:
        raise Unprocessable(
            f"{what_zh}含有无效字符", f"The {what_en} contains invalid characters", code="invalid_text"
        )
    if required and not cleaned:
        raise Unprocessable(
            f"须填写{what_zh}", f"The {what_en} is required", code=f"{what_en.replace(' ', '_')}_required"
        )
    if len(cleaned) > max_length:
        raise Unprocessable(
            f"{what_zh}过长（最多 {max_length} 字）",
            f"The {what_en} is too long (at most {max_length} characters)",
            code="text_too_long",
        )
    return cleaned


def _amount(value: int | None, what_zh: str, what_en: str, *, required: bool) -> int | None:
    if value is None:
        if required:
            raise Unprocessable(f"须填写{what_zh}", f"The {what_en} is required", code="amount_required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unprocessable(f"{what_zh}格式不正确", f"The {what_en} is not an amount", code="amount_invalid")
    if value <= 0:
        raise Unprocessable(
            f"{what_zh}必须大于 0", f"The {what_en} must be greater than 0", code="amount_not_positive"
        )
    if value > MAX_AMOUNT_FEN:
        raise Unprocessable(f"{what_zh}过大", f"The {what_en} is too large", code="amount_too_large")
    return value


def _cause(cause: str) -> str:
    if cause not in plans.CAUSES:
        raise Unprocessable(
            f"未知的困难原因：{cause}（可选：{'、'.join(plans.CAUSES)}）",
            f"Unknown hardship cause: {cause} (one of: {', '.join(plans.CAUSES)})",
            code="unknown_cause",
        )
    return cause
