"""Category and severity suggestions from a message's (Simplified Chinese) text. Pure.

Keywords are matched as substrings of the OpenCC-normalised text rather than jieba tokens: the
trigger words are short fixed phrases (12378, 黑猫投诉, 暴力催收) that a segmenter may split or
merge differently from how customers type them, and intake must not pay jieba's dictionary load.
The agent confirms or corrects the suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES: dict[str, str] = {
    "repayment_question": "还款咨询",
    "repayment_failed": "还款失败/未入账",
    "hardship": "困难协商",
    "fee_dispute": "费用/利息争议",
    "early_settlement": "提前结清",
    "complaint": "投诉",
    "collection_conduct": "催收行为投诉",
    "credit_report": "征信异议",
    "account_change": "账户/信息变更",
    "fraud": "欺诈/冒名举报",
    "product_question": "产品咨询",
    "other": "其他",
}
SEVERITIES = ("P1", "P2", "P3", "P4")
COMPLAINT_CATEGORIES = frozenset({"complaint", "collection_conduct"})

# Checked in this order: the first category with a matching keyword wins.
KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fraud", ("冒名", "冒用", "盗用", "诈骗", "骗子", "不是我借的", "没有借过", "身份被盗", "假冒")),
    (
        "collection_conduct",
        ("暴力催收", "催收", "骚扰", "爆通讯录", "威胁", "辱骂", "恐吓", "打电话给我家人", "联系我同事"),
    ),
    ("credit_report", ("征信", "信用报告", "逾期记录", "人行", "异议")),
    ("repayment_failed", ("没有入账", "未入账", "没入账", "扣款失败", "还款失败", "重复扣款", "扣了两次")),
    ("early_settlement", ("提前还款", "提前结清", "一次性还清", "结清证明")),
    ("hardship", ("困难", "还不起", "失业", "延期", "分期", "协商", "减免", "停息挂账", "生病", "住院")),
    ("fee_dispute", ("利息太高", "罚息", "滞纳金", "手续费", "服务费", "砍头息", "费用", "利率", "多收")),
    ("complaint", ("投诉", "不满意", "举报", "态度差", "维权")),
    ("account_change", ("换手机号", "更换手机", "修改", "变更", "银行卡", "绑卡", "地址")),
    ("repayment_question", ("还款", "还多少", "账单", "应还", "还款日", "怎么还")),
    ("product_question", ("额度", "借款", "利率是多少", "产品", "申请", "放款")),
)

# Who the customer names: these raise severity and flag the ticket.
ESCALATION_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("regulator", ("监管", "银保监", "金融监管总局", "12378", "人民银行", "12363", "金融办")),
    ("media", ("黑猫投诉", "媒体", "记者", "曝光", "微博")),
    ("lawyer", ("律师", "起诉", "法院", "诉讼", "报警")),
)

BASE_SEVERITY: dict[str, str] = {
    "fraud": "P1",
    "collection_conduct": "P2",
    "complaint": "P2",
    "repayment_failed": "P2",
    "credit_report": "P3",
    "hardship": "P3",
    "fee_dispute": "P3",
    "early_settlement": "P3",
    "account_change": "P3",
    "repayment_question": "P4",
    "product_question": "P4",
    "other": "P4",
}


@dataclass(frozen=True)
class Suggestion:
    category: str
    severity: str
    escalations: tuple[str, ...] = ()
    matched: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        """Regulator- or media-sourced: routed to the complaints team."""
        return bool({"regulator", "media"} & set(self.escalations))

    @property
    def is_complaint(self) -> bool:
        return self.category in COMPLAINT_CATEGORIES or bool(self.escalations)


def raise_severity(severity: str, steps: int = 1) -> str:
    return SEVERITIES[max(SEVERITIES.index(severity) - steps, 0)]


def higher(first: str, second: str) -> str:
    """The more urgent of two severities (P1 is the most urgent)."""
    return min(first, second, key=SEVERITIES.index)


def suggest(text: str) -> Suggestion:
    """Suggest a category and severity for a message in Simplified Chinese."""
    lowered = text.lower()
    category, matched = "other", []
    for candidate, words in KEYWORDS:
        hits = [word for word in words if word in lowered]
        if hits:
            category, matched = candidate, hits
            break
    escalations = tuple(
        source for source, words in ESCALATION_WORDS if any(word in lowered for word in words)
    )
    severity = BASE_SEVERITY[category]
    if escalations:
        # Naming a regulator, the media or a lawyer: one step more urgent, and never below P2.
        severity = higher(raise_severity(severity), "P2")
    return Suggestion(category, severity, escalations, tuple(matched))
