"""Anti-scam screening (R5.3): does a message describe an impostor's script? Pure.

Impostors follow a handful of scripts (公安部 and lenders publish them): move money to a "safe"
or "supervised" account, cancel a "student loan account" (注销校园贷), clear the credit limit,
刷流水 to prove repayment ability, pay a fee to lower the rate, unfreeze funds or get the loan
released, read out a verification code, share the screen or install a meeting / remote-control
app, or pay someone to erase overdue records. A script is recognised by its marks in the
normalised text; the weaker marks (a fee, a transfer) count only together with a sign that
someone contacted the borrower (对方, 自称, 打电话, 让我 …). The rules are the high-precision layer:
each flag names its script. Beside them (issue 19) a model over character and word n-grams,
trained on victims' stories in many tellings (Traditional, Cantonese, colloquial, fake credit
repair, 停息挂账 for a fee, impostor groups and apps, fake court or police) and on hard negatives
(the same words in an ordinary question); its flag names the n-grams that carried it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # QA reads the rules without loading the models' code
    from lenddesk.assistant.classifier import LinearModel


FLAG = "SCAM_SUSPECTED"

# Each script: a name and the patterns (regular expressions over normalised text) that mark it.
STRONG: dict[str, tuple[str, ...]] = {
    "safe_account": (
        r"安全(账户|帐户|账号)",
        r"(监管|指定|验资|核验)(账户|帐户|账号)",
        r"新账户.*(证明|验证)",
    ),
    "cancel_student_loan": (
        r"注销.{0,6}(校园贷|学生贷|学生账户|校园账户|网贷账户|金融账户)",
        r"(校园贷|学生贷|学生时候|大学时候|上学时).{0,12}注销",
    ),
    "clear_limit": (
        r"(清空|清零|消除).{0,4}额度",
        r"额度.{0,6}(清空|清零).{0,12}(转|交|付|操作|配合|贷|借|否则|不然|影响征信)",
    ),
    "bank_flow": (r"(刷|走|做|打)(银行)?流水", r"流水不够"),
    "screen_share": (
        r"(屏幕|桌面)共享",
        r"共享(屏幕|桌面)",
        r"开.{0,3}共享",
        r"投屏",
        r"远程(控制|协助|操作)",
        r"(要|让|叫)?(看|盯着|录).{0,3}(我的?)?(手机|电脑)屏幕",
    ),
    "meeting_app": (
        r"(腾讯会议|钉钉会议|飞书会议|zoom|瞩目|小鱼易连|云会议|会议软件|会议app|向日葵|todesk|teamviewer)",
        r"(钉钉|腾讯|飞书).{0,4}开.{0,3}会议",
    ),
    "share_code": (
        r"验证码.{0,8}(告诉|发给|报给|念给|读给|提供给|给了|给他|给她|给对方)",
        r"(告诉|发给|报给|念给|读给|提供).{0,6}(他|她|对方|客服|工作人员).{0,4}验证码",
        r"把.{0,6}验证码.{0,6}(告诉|发|念|报|读)",
    ),
    "unfreeze_fee": (
        r"(解冻|激活|认证|包装|工本|验资|刷单|修改|更正|提分|提额)(费|金)",
        r"(卡号|银行卡|账户|资料|信息).{0,6}(错误|填错|有误|异常).{0,12}(交|付|缴|转|打).{0,6}(费|钱|金)",
        r"(交|付|缴|转|打).{0,10}(保证金|解冻费|手续费|服务费|会员费|认证费|包装费|激活费|押金)"
        r".{0,12}(放款|下款|到账|降息|降低利率|利率|解冻|提现|额度)",
        r"(放款|下款|降息|降低利率|利率降|解冻).{0,12}(先|要|需要).{0,4}(交|付|缴|转).{0,6}(钱|费|金)",
        r"(冻结|卡号.{0,3}错).{0,16}(转|交|打).{0,16}(解冻|钱)",
    ),
    "paid_credit_repair": (
        r"(修复|洗白|消除|删除|处理).{0,6}(征信|逾期记录).{0,12}(收费|费用|交钱|付费|转钱|\d+块|\d+元)",
        r"(收费|交钱|付费|花钱).{0,10}(修复|洗白|消除).{0,4}(征信|逾期记录)",
    ),
    "fake_authority": (
        r"(涉案|涉嫌(洗钱|犯罪|诈骗|违法)|通缉|被立案).{0,30}(不能挂|不要挂|别挂|保密|不能告诉|不要告诉|别告诉|"
        r"不准告诉|配合调查|视频|警服|转|核查)",
        r"(警服|警察制服|制服).{0,20}(涉案|视频|调查|转)",
        r"(涉嫌|涉及)(洗钱|诈骗|违规).{0,20}(转|账户|配合)",
        r"(银保监|银监|监管局|公安|警察|法院).{0,16}(注销|转账|转到|安全账户)",
    ),
    "fake_membership": (r"(百万保障|会员).{0,16}(扣费|关闭|取消).{0,24}(借|转|操作)",),
    "victim": (
        r"(?<!怕)(?<!防止)(?<!避免)(?<!不要)(?<!不会)(被骗了|被骗走|骗走了?我|骗了我\d|上当受骗)",
        r"卡被盗?刷|被盗刷",
        r"(转|打|付|交)了?.{0,8}(钱|款|账).{0,10}(才|后来|然后)?发现(不对|被骗|是骗|上当|是假的)",
    ),
    # A look-alike of the lender (an app, a mini-program, a group, a hotline) or an impostor's ask.
    "impostor": (
        r"(骗子|骗人的).{0,4}冒充|(?<!催收)冒充.{0,10}骗(了|走|我)",
        r"加(个)?(qq|微信|企业微信|telegram|tg|whatsapp).{0,10}(处理|退费|退款|办理|注销|解冻|理赔|提额|下款)",
        r"(仿冒|冒充|假冒|山寨|高仿)(你们|贵司|平台|官方)?的?(小程序|app|网站|公众号|客服|热线|群)"
        r".{0,20}(还了|转了|付了|交了|充了|借了|登录了|输了|填了|绑了)",
        r"(?<!催收)冒充.{0,20}(让我|叫我|要我|还让|给我发)",
        r"(刷单|垫付).{0,10}(返|佣金|任务|群)|(群|拉我).{0,16}(刷单|垫付)",
        r"私下(和解|协商|处理).{0,20}(转|打|付|交)",
    ),
    "phishing": (
        r"(链接|连结|网址|二维码|小程序|http|www\.).{0,30}(验证身份|重新验证|减免|绑卡|输密码|输入密码|卡被刷|退款|"
        r"以后.{0,6}还款|在这里还)",
        r"(点|打开|扫)了?.{0,8}(链接|连结|网址|二维码).{0,12}(钱|卡|密码|验证码)",
    ),
    "personal_account": (
        r"(转|打|汇|存)(到|进|给|入)?.{0,8}(律师|客服|催收|工作人员|专员|经理|对方|他|她)的?(个人|私人)(账户|帐户|账号|卡)",
        r"还款(要|转|打|存)(到|进|入)?.{0,4}(个人|私人)(账户|帐户|账号|卡)",
    ),
    "gift_card": (
        r"(话费卡|充值卡|购物卡|礼品卡|游戏卡|京东卡|e卡|点卡|itunes卡|gift ?card).{0,12}"
        r"(卡号|卡密|发给|拍照|给他|给她|提分)",
        r"(买|充)(了)?.{0,6}(话费卡|充值卡|购物卡|礼品卡|京东卡|e卡).{0,12}(发|给|卡号|卡密)",
    ),
    "paid_membership": (
        r"(开了|办了|买了|交了?.{0,6}开|(让|叫|要)我(开|办|买))(个|一个)?(什么)?(vip|会员).{0,16}(提额|额度|放款|下款|借款)",
        r"激活.{0,6}(要|需要|得)(付|交|转|扫码)",
    ),
    "pay_for_score": (
        r"(信用分|征信分|评分|分数|积分).{0,8}(不够|太低|不足).{0,12}(充值|交|付|刷|转|提分)",
        r"充值提分|刷分",
    ),
    "english": (
        r"safe account",
        r"screen ?shar",
        r"share (my|the|your) screen",
        r"unfreez(e|ing) fee",
        r"(asked|wanted|told).{0,30}(otp|verification code|sms code)",
        r"(otp|verification code|sms code).{0,20}(to him|to her|to them|to the caller)",
    ),
}
# Weaker marks: a scam only when someone contacted the borrower.
WEAK: dict[str, tuple[str, ...]] = {
    "transfer_to_person": (
        r"(转账?|打款?)(到|给|进).{0,8}(他|她|对方|私人|个人)",
        r"(借出来|借钱|贷出来).{0,10}转",
        r"(转|打|存)(钱|款|账)?.{0,6}(私人|个人|他的|他给的|她给的|指定的?)(账户|帐户|账号|卡)",
    ),
    "credentials": (r"(输入|填写?|提供|发给).{0,10}(密码|验证码|短信码)",),
    "pay_first": (r"先(交|付|缴|转).{0,6}(钱|费|块|元)", r"(保证金|手续费|服务费|会员费)"),
    "code_request": (r"(要|问|索要).{0,4}验证码",),
}
CONTACT = re.compile(
    r"对方|自称|冒充|打电话|来电|电话说|打来|接到|有人|那个人|他说|她说|他让|她让|让我|叫我|要我|"
    r"客服说|加了?(微信|qq)|短信说|发短信|简讯说|客服(要|让|叫|问)|(他|她|对方)要"
)


@dataclass(frozen=True)
class ScamCheck:
    suspected: bool
    scripts: tuple[str, ...]
    evidence: tuple[str, ...] = ()  # the model's n-grams when the model flagged it

    @property
    def flags(self) -> list[str]:
        return [FLAG] if self.suspected else []


_STRONG = {name: [re.compile(p) for p in patterns] for name, patterns in STRONG.items()}
_WEAK = {name: [re.compile(p) for p in patterns] for name, patterns in WEAK.items()}


def _matching(text: str, scripts: dict[str, list[re.Pattern[str]]]) -> list[str]:
    return [name for name, patterns in scripts.items() if any(p.search(text) for p in patterns)]


# A question about the lender's practice ("你们会让我共享屏幕吗") or about avoiding scams ("怎么识别
# 诈骗电话", "听说有人冒充…") names a script without telling one: not a scam story, unless the
# borrower also tells what happened (someone contacted them, money moved).
_POLICY_QUESTION = re.compile(
    r"(你们|官方|平台|贵司|客服|工作人员|员工)的?(工作人员|客服|员工)?(会|是否会|会不会|有没有|是不是会|可能)"
    r"(主动)?.{0,24}(吗|么|嘛|\?|$)"
)
_ANTI_SCAM_QUESTION = re.compile(
    r"听说|怎么(识别|防范|辨别|防止|避免)|如何(识别|防范|辨别|防止|避免)|防(诈|骗)|反诈|网上(说|讲)|新闻(说|讲|里)|"
    r"看到新闻|注意(什么|咩|神马|些什么)"
)
_TOLD = re.compile(
    r"对方|自称|接到|打来|打电话给我|给我打|打给我|电话说|说是|有个|(有人|有个人).{0,6}(打|加|发|联系|找)我|"
    r"刚刚|刚才|昨天|今天|那个人|他说|她说|他让|她让|让我下|"
    r"已经|转了|付了|交了|照做|被骗|骗走|打过去|转过去"
)


def asks_without_a_story(normalised: str) -> bool:
    if _TOLD.search(normalised):
        return False
    return bool(_POLICY_QUESTION.search(normalised) or _ANTI_SCAM_QUESTION.search(normalised))


# Screen sharing or a meeting app for work or school, with nothing about money or the account: no story.
_WORK_MEETING = re.compile(r"公司|老板|单位|领导|同事|开会|上课|网课|老师|工作要")
_MONEY_OR_ACCOUNT = re.compile(
    r"转|钱|验证码|冒充|对方|自称|额度|冻结|征信|贷款|借款|账户|客服说|客服让|你们公司|你们的?人|业务|经理|专员|"
    r"有个|有人|(让|叫|要)我下"
)
_MEETING_SCRIPTS = frozenset({"screen_share", "meeting_app"})


def _for_work(normalised: str, strong: list[str]) -> bool:
    return (
        set(strong) <= _MEETING_SCRIPTS
        and bool(_WORK_MEETING.search(normalised))
        and not _MONEY_OR_ACCOUNT.search(normalised)
    )


def _explained_away(normalised: str, strong: list[str]) -> bool:
    """Words of a script in a message that tells no story: a question about the lender's practice or
    about scams, or screen sharing for work."""
    return asks_without_a_story(normalised) or bool(strong and _for_work(normalised, strong))


def screen(normalised: str) -> ScamCheck:
    return _screened(normalised, _matching(normalised, _STRONG))


def _screened(normalised: str, strong: list[str]) -> ScamCheck:
    """The rules' verdict, `strong` being the strong scripts the text names."""
    if _explained_away(normalised, strong):
        return ScamCheck(False, ())
    weak = _matching(normalised, _WEAK) if CONTACT.search(normalised) else []
    scripts = tuple(strong + weak)
    return ScamCheck(bool(scripts), scripts)


THRESHOLD = 0.5  # the model's probability of a scam story, set on the development set


def assess(normalised: str, model: LinearModel | None) -> ScamCheck:
    """The scripts' rules, else the model (when there is one)."""
    strong = _matching(normalised, _STRONG)
    ruled = _screened(normalised, strong)
    if ruled.suspected or model is None or not normalised or _explained_away(normalised, strong):
        return ruled
    if model.probability(normalised, "scam") >= THRESHOLD:
        return ScamCheck(True, ("model",), model.evidence(normalised, "scam"))
    return ruled
