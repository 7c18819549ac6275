"""What a care campaign's text must be: pure rules, no database, no clock.

Every text passes the collections guard's text checks (threats, insults, false authority or
consequences, personal data in clear) and never mentions a blacklist (黑名单, in any spelling the
guard's normalisation folds: full-width, Traditional, spaced out). A marketing text — a greeting or
an offer — must end with the sender's signature and a 退订 instruction, in either order:
"…【乐贷】回复TD退订" or "…回T退订 —乐贷".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lenddesk.collections import guard

KINDS = ("greeting", "education", "offer", "revisit")
MARKETING_KINDS = frozenset({"greeting", "offer"})
# The consent a campaign of each kind needs (a revisit follows up the borrower's own matter).
PURPOSE_OF_KIND = {"greeting": "marketing", "offer": "marketing", "education": "education", "revisit": None}
PURPOSES = ("marketing", "education")
MAX_TEXT = 500

_INSTRUCTION = r"(?:回复?\s*(?:TD|T|N|退订)\s*(?:即可)?\s*退订|退订\s*请?\s*回复?\s*(?:TD|T|N))"
_SEPARATOR = r"[\s，,。.;；:：—\-–]*"
_END = r"[\s。.!！]*$"
_FORBIDDEN = ("黑名单", "heimingdan")


@dataclass(frozen=True)
class TextProblem:
    code: str
    message_zh: str
    message_en: str


def _signature(sender: str) -> str:
    name = re.escape(sender)
    return rf"(?:【{name}】|\[{name}\]|{name})"


def ends_with_signature_and_opt_out(text: str, sender: str) -> bool:
    folded = guard.normalise(text).upper()
    sender_folded = guard.normalise(sender).upper()
    signature = _signature(sender_folded)
    patterns = (
        signature + _SEPARATOR + _INSTRUCTION + _END,
        _INSTRUCTION + _SEPARATOR + signature + _END,
    )
    return any(re.search(pattern, folded, re.IGNORECASE) for pattern in patterns)


def mentions_blacklist(text: str) -> bool:
    compacted = guard.compact(guard.normalise(text))
    return any(word in compacted for word in _FORBIDDEN) or "heimingdan" in guard.pinyin_reading(compacted)


def text_problems(text: str, *, kind: str, sender: str) -> list[TextProblem]:
    """Why the text may not go out (empty: it may)."""
    problems: list[TextProblem] = []
    if not text.strip():
        problems.append(TextProblem("empty_text", "内容不能为空", "The text is empty"))
        return problems
    if len(text) > MAX_TEXT:
        problems.append(
            TextProblem(
                "text_too_long",
                f"内容过长（最多 {MAX_TEXT} 字）",
                f"The text is too long (at most {MAX_TEXT})",
            )
        )
    if kind in MARKETING_KINDS and not ends_with_signature_and_opt_out(text, sender):
        problems.append(
            TextProblem(
                "marketing_footer",
                f"营销类短信须以发送方签名【{sender}】和退订方式（如“回复TD退订”）结尾",
                f"A marketing text must end with the sender's signature 【{sender}】 and how to opt out"
                " (e.g. 回复TD退订)",
            )
        )
    if mentions_blacklist(text):
        problems.append(
            TextProblem(
                "blacklist_word", "对外内容不得提及“黑名单”", "An outbound text must not mention a blacklist"
            )
        )
    for violation in guard.text_violations(text):
        problems.append(
            TextProblem(
                f"guard_{violation.code.lower()}",
                f"未通过合规检查：{violation.message_zh}",
                f"Fails the compliance guard: {guard.MESSAGES_EN[violation.code]}",
            )
        )
    return problems
