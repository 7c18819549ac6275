"""The fixed list of intents the assistant recognises (the API answers exactly these codes). Pure."""

from __future__ import annotations

INTENTS: dict[str, str] = {
    "repay_how": "还款方式",
    "repay_date": "还款日期",
    "repay_amount": "还款金额",
    "repay_failed": "扣款失败/未入账",
    "early_repay": "提前还款",
    "overdue_consequence": "逾期后果",
    "penalty_fee": "罚息/滞纳金及减免",
    "hardship": "还款困难/延期分期",
    "interest_rate": "利率与费用",
    "credit_report": "征信",
    "limit": "额度",
    "loan_apply": "借款申请与放款",
    "account_change": "账户信息变更",
    "complaint": "投诉",
    "collection_complaint": "催收投诉",
    "fraud_report": "诈骗/冒名举报",
    "verify_official": "官方渠道核实",
    "settle_proof": "结清证明/凭证",
    "human": "转人工",
    "chitchat": "寒暄",
    "other": "其他",
}
INTENT_CODES = tuple(INTENTS)
EMOTIONS = ("calm", "anxious", "angry")
EMOTION_LABELS = {"calm": "平静", "anxious": "焦虑", "angry": "愤怒"}

# Intents whose answer needs the borrower's own account (after one-time-code verification).
ACCOUNT_INTENTS = frozenset({"repay_amount", "repay_date", "early_repay"})
# Intents a person must take over: the bot answers what it can and opens a ticket. (A fraud report
# opens a ticket for the fraud team without handing the chat over: dialogue.decide.)
HANDOFF_INTENTS = frozenset({"human", "complaint", "collection_complaint"})
# Intents that are not a question the bot can answer: they count as a miss.
MISS_INTENTS = frozenset({"other"})
