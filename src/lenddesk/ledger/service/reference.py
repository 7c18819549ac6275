"""Reference data: repayment channels and kinds, contact relations, status labels (with Chinese labels)."""

from __future__ import annotations

CHANNELS = ("bank_transfer", "mobile_banking", "wechat_pay", "alipay", "auto_debit", "counter")
CHANNEL_LABELS_ZH = {
    "bank_transfer": "银行转账",
    "mobile_banking": "手机银行",
    "wechat_pay": "微信支付",
    "alipay": "支付宝",
    "auto_debit": "自动扣款",
    "counter": "柜台",
}
REPAYMENT_KINDS = ("regular", "early_partial", "early_full")
RELATIONS = ("self", "spouse", "emergency", "relative", "colleague", "friend")
RELATION_LABELS_ZH = {
    "self": "本人",
    "spouse": "配偶",
    "emergency": "紧急联系人",
    "relative": "亲属",
    "colleague": "同事",
    "friend": "朋友",
}
STATUS_LABELS_ZH = {"current": "正常", "overdue": "逾期", "settled": "已结清", "written_off": "已核销"}
