"""The desk's labels in Chinese, as Jinja globals for every console template."""

from __future__ import annotations

from lenddesk.desk import categorise, complaint_stages, macros, service
from lenddesk.web.console import templates

EXTENSION_STATUS_LABELS = {
    "applied": "已延期",
    "pending": "待批准",
    "approved": "已批准",
    "rejected": "已驳回",
}
NOTIFICATION_LABELS = {
    "sla_breach": "SLA 超时",
    "complaint_d3": "投诉 D-3",
    "complaint_d1": "投诉 D-1",
    "complaint_breach": "投诉超期",
}


CHANNEL_LABELS = {
    "phone": "电话",
    "chat": "在线客服",
    "email": "邮件",
    "wechat": "微信",
    "sms": "短信",
    "web_form": "网页表单",
    "api": "接口",
}
SEVERITY_LABELS = {"P1": "P1 紧急", "P2": "P2 高", "P3": "P3 中", "P4": "P4 低"}
SLA_LABELS = {"ok": "正常", "at_risk": "即将超时", "breached": "已超时"}
AGENT_STATUS_LABELS = {"online": "在线", "away": "离开", "offline": "离线"}
EVENT_LABELS = {
    "inbound": "客户来信",
    "outbound": "回复客户",
    "note": "内部备注",
    "status": "状态变更",
    "assignment": "分配",
    "category": "分类",
    "consult": "部门咨询",
    "verification": "身份核验",
    "follow_up": "跟进",
    "sla": "时限",
    "complaint": "投诉",
    "delivery": "投递",
    "reopen": "重新打开",
    "call": "通话",
}
DELIVERY_LABELS = {
    "queued": "待投递",
    "sent": "已发送",
    "delivered": "已送达",
    "failed": "投递失败",
    "dead": "投递失败（死信）",
}
TAG_LABELS = {"complaint": "投诉", "regulator": "监管", "media": "媒体", "lawyer": "律师"}
LOAN_STATUS_LABELS = {"current": "正常", "overdue": "逾期", "settled": "已结清", "written_off": "已核销"}
SOURCE_LABELS = {"customer": "客户", "regulator": "监管转办", "media": "媒体", "lawyer": "律师"}


templates.env.globals.update(
    channel_labels=CHANNEL_LABELS,
    severity_labels=SEVERITY_LABELS,
    sla_labels=SLA_LABELS,
    status_labels=service.STATUS_LABELS,
    category_labels=categorise.CATEGORIES,
    level_labels=macros.LEVEL_LABELS,
    agent_status_labels=AGENT_STATUS_LABELS,
    event_labels=EVENT_LABELS,
    delivery_labels=DELIVERY_LABELS,
    department_labels=service.DEPARTMENTS,
    stage_labels=complaint_stages.STAGE_LABELS,
    root_cause_labels=complaint_stages.ROOT_CAUSES,
    source_labels=SOURCE_LABELS,
    loan_status_labels=LOAN_STATUS_LABELS,
    tag_labels=TAG_LABELS,
    extension_status_labels=EXTENSION_STATUS_LABELS,
    notification_labels=NOTIFICATION_LABELS,
)
