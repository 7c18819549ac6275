"""The assistant's own sentences (not FAQ answers). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

_OPENINGS = {
    "angry": "非常抱歉给您带来困扰，您的问题我已立即转给人工客服处理。",
    "asked": "好的，正在为您转接人工客服。",
    "complaint": "非常抱歉给您带来不好的体验，已为您转接人工处理。",
    "fraud": "您反映的情况我们非常重视，已为您转接反欺诈专员。",
    "misses": "抱歉，我没能理解您的问题，已为您转接人工客服。",
}


def handoff_opening(reason: str) -> str:
    return _OPENINGS.get(reason, _OPENINGS["asked"])


def handoff_closing(ticket_number: str, when: str | None) -> str:
    if when is None:
        return f"工单号 {ticket_number}，客服会在这里回复您，请稍候，无需重复发送。"
    return (
        f"工单号 {ticket_number}。现在是人工客服的非工作时间，客服将于 {when} 起优先回复您，"
        "您的留言都会保留；期间您仍可以向我咨询常见问题。"
    )


def scam_warning(
    values: Mapping[str, str], ticket_number: str, when: str | None, *, handed_off: bool = True
) -> str:
    if not handed_off:  # the fraud team works the ticket; the bot stays in the chat
        later = "反欺诈专员会尽快跟进（在这里或致电您的注册手机号）。您可以继续在这里向我提问。"
    else:
        later = f"反欺诈专员将于 {when} 起联系您。" if when else "反欺诈专员会尽快在这里联系您。"
    return (
        "⚠️ 警惕诈骗！您描述的情况符合常见诈骗手法。我们的工作人员绝不会：要求您转账到"
        "「安全账户」或个人账户、让您注销「校园贷」或清空额度、要求刷流水或先交费用才能放款/降息/解冻、"
        "索要验证码、让您共享屏幕或下载会议/远程软件。\n"
        "请立即停止操作、不要再转账；如已转账请马上拨打 110 报警或反诈专线 96110，并联系银行止付。\n"
        f"官方客服电话只有：{values['official_numbers']}。\n"
        f"已为您生成紧急工单 {ticket_number}，{later}"
    )


def fraud_ticket_note(guidance: str, ticket_number: str) -> str:
    opening = f"{guidance}\n" if guidance else "您反映的情况我们非常重视，已为您生成反欺诈工单。"
    return (
        f"{opening}工单号 {ticket_number}，反欺诈专员会尽快跟进（在这里或致电您的注册手机号）。"
        "您可以继续在这里向我提问；需要人工请回复「人工」。"
    )


def rephrase(suggestions: Sequence[str]) -> str:
    hint = f"您是想咨询：{'、'.join(suggestions)}？" if suggestions else ""
    return (
        f"抱歉，我没有完全理解您的意思。{hint}请换个说法描述一下，"
        "例如「怎么还款」「提前结清要多少钱」「罚息能减免吗」；需要人工请回复「人工」。"
    )


VERIFY_START = (
    "为保护您的账户安全，查询账户信息前需要验证身份。请在一条消息里发送：姓名、身份证号后六位、"
    "注册手机号（用空格隔开），例如：张三 12345X 13800138000。核对无误后，我们会向您的注册手机"
    "发送短信验证码。回复「取消」可退出验证。"
)
VERIFY_CANCELLED = "已退出身份验证。还有什么可以帮您？"
VERIFY_LOCKED = "核验失败次数过多，为保护账户安全已暂停在线验证。如需查询，请回复「人工」。"
CODE_SENT = "验证码已发送至 {masked}，{minutes} 分钟内有效，请直接回复验证码（短信可能有约 1 分钟延迟）。"
CODE_WRONG = "验证码不正确，还可尝试 {left} 次。"
CODE_VOID = "验证码已失效，请回复「验证」重新获取。"
VERIFIED = "验证成功。"
NEEDS_VERIFICATION = (
    "查询您本人的还款金额、还款日或结清金额需要先验证身份（我们不会在未验证时透露任何账户信息）。"
    "请回复「验证」开始。您也可以登录 App「我的借款」自助查看。"
)
