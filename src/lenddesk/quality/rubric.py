"""The QA rubric: one conversation checked against the service standard, item by item. Pure.

Each item is passed, failed or not applicable, with the sentence that decided it quoted as
evidence; the score is the weighted share of the applicable items passed, 0–100. The codes are
fixed (the rubric in the policy chooses their weights); docs/QUALITY.md gives each item's rule:

- GREETING          the agent's first message opens with a written greeting (您好, 尊敬的客户您好,
                    X女士您好), in chat and e-mail alike
- IDENTITY_CHECK    identity verified (the agent asked and the borrower answered, or verified
                    outside the transcript) before any account data; n/a when no account is touched
- ACCURACY          amounts and dates match the ledger as the agent saw it; without the ledger, the
                    arithmetic the conversation lets one check (instalments, sums, level payments)
- EMPATHY           when the borrower expresses distress, worry or anger, the agent acknowledges it
- SOLUTION_OFFERED  the agent states what will happen or what the borrower can do
- BANNED_LANGUAGE   threats, insults, false authority, false consequences (the collections guard)
- PRIVACY           no full ID number, bank card or mobile number in clear, whatever its check
                    digits, and no third party's data
- CLOSING           the last agent turn closes: thanks, a next step or a goodbye
- RESPONSE_TIME     the first agent answer within the ticket's first-response SLA

BANNED_LANGUAGE, PRIVACY and account data before verification are severe: the conversation goes
to review whatever its score. What the company says is checked for the severe items whether an
agent or the bot said it; the manner items (greeting, empathy, closing) judge the agent's turns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import get_args

from lenddesk.assistant import scam
from lenddesk.assistant.normalise import normalise as assistant_text
from lenddesk.collections import guard
from lenddesk.core.numerals import numerals_to_digits, percents_to_digits
from lenddesk.core.patterns import compile_prefiltered
from lenddesk.core.policy import QualityCode
from lenddesk.desk import categorise, disclosure
from lenddesk.quality import arithmetic, language

# The nine codes are defined once, by the policy file's schema (core cannot import this room).
CODES: tuple[str, ...] = get_args(QualityCode)
CODE_LABELS = {
    "GREETING": "问候",
    "IDENTITY_CHECK": "身份核验",
    "ACCURACY": "信息准确",
    "EMPATHY": "同理心",
    "SOLUTION_OFFERED": "提供方案",
    "BANNED_LANGUAGE": "禁用语",
    "PRIVACY": "隐私保护",
    "CLOSING": "结束语",
    "RESPONSE_TIME": "响应时效",
}
SEVERE_CODES = frozenset({"BANNED_LANGUAGE", "PRIVACY", "IDENTITY_CHECK"})
SPEAKERS = ("agent", "borrower", "bot")
RESULTS = ("pass", "fail", "n/a")
COMPANY = frozenset({"agent", "bot"})
# Stored conversations also carry the staff's internal notes (call notes, collection notes): checked
# for banned language and privacy only, as the borrower never reads them.
STAFF_WRITTEN = COMPANY | {"note"}
EVIDENCE_LIMIT = 200

# --- word lists and patterns of the items (the severe language checks live in collections/guard.py) --
# Text is matched normalised: NFKC, Simplified, no spaces, lower case.

# GREETING: a written greeting at the opening of the agent's first message. 您好像 (you seem) is none.
_GREETING = compile_prefiltered(
    r"(?<!祝)(?:您|你)好(?![像运好])|(?:早上|上午|中午|下午|晚上)好|早安|午安|欢迎(?:咨询|光临|来电|您)|"
    r"(?<![a-z])(?:hello|hi|dear|good (?:morning|afternoon|evening))(?![a-z])|哈喽|嗨"
)

_DISTRESS_WORDS = (
    "困难", "还不起", "还不上", "拿不出", "没钱", "失业", "下岗", "裁员", "生病", "住院", "手术", "急用",
    "着急", "焦虑", "压力", "崩溃", "难受", "绝望", "走投无路", "活不下去", "睡不着",
    "该怎么办", "怎么办啊", "怎么办呀", "求求", "太难了", "家里出事", "去世", "离婚", "被骗", "害怕",
    "担心", "好怕", "吓死", "受不了", "欺负", "委屈", "急用", "看病", "医院", "化疗", "癌", "没工作",
    "找不到工作", "工资没发", "发不出工资", "拖欠工资", "停工", "生意失败", "生意不好", "亏了", "亏损",
    "倒闭", "负债",
    "以贷养贷", "撑不下去", "想死", "不想活", "难过", "伤心", "哭", "心累", "失眠", "抑郁", "喘不过气",
    "意外", "车祸", "受伤", "骨折", "怀孕", "困境", "艰难", "真的没办法", "救救", "帮帮我",
    "过世", "病故", "丧事", "走了没几天", "还不了", "手头紧", "周转不开", "周转不过来", "icu", "重症",
    "一团乱", "顾不上", "lostmyjob", "worried", "laidoff", "hospital", "can'tpay", "cannotpay", "struggling",
    "anxious", "周转有点难", "周转困难", "周转难", "不太好做", "心神不宁", "扣光", "花光", "撑不住",
    "不知道怎么办", "怎么办才好", "急死", "急得", "心慌", "慌了", "发愁", "愁死", "头疼", "睡不好", "刚走",
    "睡不著",
    "吃不下", "一分钱都没有", "揭不开锅", "交不起", "扛不住", "熬不下去", "难熬", "好难", "无助", "恐慌",
    "忐忑", "担忧", "压垮", "stress", "scared", "afraid", "desperate", "can'tafford", "passedaway",
)  # fmt: skip
_DISTRESS = re.compile("|".join(re.escape(word) for word in _DISTRESS_WORDS))
# A distress word right after one of these is denied (没什么困难, 不担心).
_DENIED_BEFORE = re.compile(r"(?:没|没有|不|无|并不|并没)(?:什么|啥|太|怎么)?$")
_EMPATHY_WORDS = (
    "理解", "抱歉", "不好意思", "很遗憾", "辛苦", "别着急", "不要着急", "请放心", "您放心", "体谅",
    "感同身受", "明白您", "心情", "难处", "关心", "保重", "早日康复", "我们会帮您", "一起想办法",
    "别担心", "不用担心", "不要担心", "致歉", "道歉", "对不起", "给您带来", "让您久等", "渡过难关",
    "不容易", "别急", "能体会", "尽力", "帮您想办法", "身体要紧", "注意身体", "照顾好", "安心", "难过",
    "节哀", "sorry", "understand", "很正常",
)  # fmt: skip
# An acknowledgement taken back in the same sentence: the borrower's trouble is their own affair.
_DISMISSAL = re.compile(
    r"天经地义|不是.{0,6}(?:理由|借口)|跟我们没关系|与我们无关|和我们没关系|(?:你|您)自己的事|那是(?:你|您)的事|不关我们"
)
# SOLUTION_OFFERED: what will happen or what the borrower can do.
_SOLUTION = compile_prefiltered(
    r"方案|分期|延期|展期|减免|协商|提交|登记|反馈给|转交|跟进|处理结果|回复您|联系您|回电|"
    r"工作日内|小时内|分钟内|天内|为您(?:办理|提交|申请|登记|核实|处理|停止|转|反馈|开具|调整|查询|安排|撤销|取消)|"
    r"可以为您|建议您?|您可以|你可以|您也可以|可(?:以)?(?:通过|在|到|申请|选择|拨打|联系|下载|登录|修改|上传|直接|随时|用)|"
    r"支持(?:微信|支付宝|银行卡|使用|通过|在)|可用|"
    r"下一步|还款计划|调整|暂停|豁免|已为您|已经为您|我(?:马上|这就|会|来|帮您)|我们(?:会|将)|会在|将在|将于|"
    r"将(?:会|被)?(?:退回|到账|恢复|通知|发送|寄|放款)|预计|稍后|短信通知|通知您|原路退回|自动(?:恢复|扣款|设为|退|更新|解除|取消)|"
    r"一般(?:在|会)|通常(?:在|会)|请(?:您)?先?(?:在|到|登录|通过|点击|拨打|联系|前往|按照)|点击|点“|进入|路径|"
    r"app.{0,12}(?:中|里|内|首页|操作)|操作|热线|报警|96110|不要转账|即可|就可以|就行|只需|"
    r"(?:会|帮|给)您(?:办理|处理|申请|安排|发|核实|查|转|登记|反馈|跟进)|马上|立即|"
    r"已(?:经)?(?:处理|办理|安排|撤销|取消|退款|退回|解除|恢复|更正|修改|调整|停止|关闭|提交|登记|反馈|开具|发送)|"
    r"已经?(?:发起|受理|申请|转交|暂停)|原路(?:返回|返还)|个?工作日(?:内|到账|左右)|会在?\w{0,8}(?:到账|退还|返还)|"
    r"请(?:您)?(?:提前|及时|按时|尽快|于|在|先)?\w{0,6}(?:存入|存钱|充值|上传|发给|查收|留意)|"
    r"麻烦(?:您|你)?\w{0,4}(?:截图|上传|发过来|发给)|(?:给|为|帮)您(?:记录|备注|记下)|已(?:经)?(?:记录|备注)|"
    r"请(?:您)?(?:在)?\w{0,8}(?:之)?前\w{0,4}(?:还|存)|"
    r"(?:今天|今晚|明天|后天|\d+[日号点]|周.|月底|中午|下午|晚上)(?:之)?前.{0,4}(?:先)?(?:还|存|处理)|"
    r"登录\w{0,4}app|在app|去app|日内|(?:会|将)(?:从|于|在).{0,12}(?:扣|到账|退)|"
    r"存够|存足|备足|确保.{0,10}(?:余额|充足)|每月\d+[号日](?:会|将)?(?:自动)?(?:扣款|扣除|还款)|请于|"
    r"专人|回访|加急|优先处理|工单|升级处理|反映给|提交给|转给|短信提醒|提醒您|"
    r"请(?:您)?(?:提供|补充|准备|携带|上传)\w{0,8}(?:材料|证明|凭证|截图|资料|流水|照片|病历|诊断)"
)
# The same in English, read with its spaces.
_SOLUTION_ENGLISH = re.compile(
    r"\bwe(?:'ll| will| have| can| are going to)\b|\byou can\b|"
    r"\bplease (?:contact|reply|call|log|update|send|visit|check)\b|\bwithin \d+"
)
_NO_SOLUTION = re.compile(
    r"没办法|无能为力|自己看着办|随便|就这样|签了就要还|必须还|爱怎么|随你|不予(?:减免|退还|退款|处理|受理)|"
    r"(?:无法|不能)(?:减免|退还|退款)"
)
_CLOSING_WORDS = (
    "感谢", "谢谢", "再见", "祝您", "祝好", "此致", "敬礼", "还有其他", "还有什么", "如有疑问",
    "如有问题", "如有其他", "有问题随时", "随时联系", "生活愉快", "工作顺利", "满意", "稍后", "下一步",
    "请保持电话畅通", "不客气", "致歉", "谅解", "欢迎再次", "欢迎回复", "注意防范", "欢迎随时", "请随时",
    "有任何", "如需帮助", "如需进一步", "若有疑问", "还有疑问", "顺祝", "期待", "regards", "thank",
    "还有别的", "其他问题", "别的问题", "takecare", "sincerely", "bestwishes", "平安", "保重", "早日康复",
    "拜拜", "bye", "有需要", "随时", "打扰了", "辛苦了", "愉快", "顺利",
)  # fmt: skip
# A reply that only asks the borrower to wait.
_HOLDING = re.compile(
    r"(?:(?:您好|你好|好的|好|收到|嗯)[,，!！。]?)*(?:请|麻烦)?(?:您)?(?:稍等|稍候)(?:一下|片刻)?[,，。!！~]*"
    r"(?:我(?:先|这边|马上|现在)?(?:帮|给|为)您(?:查|看|核实|核查|查询)(?:一下|看)?[。!！~]*)?|"
    r"(?:(?:您好|你好|好的|好|收到)[,，!！。]?)*我(?:先|这边|马上|现在)?(?:帮|给|为)您(?:查|看|核实|核查|查询)"
    r"(?:一下|看)?[,，]?(?:请|麻烦)?(?:您)?(?:稍等|稍候)?(?:一下|片刻)?[。!！~]*"
)
# A borrower message that asks for no answer (好的，谢谢): the agent's goodbye after it is no late reply.
_ACKNOWLEDGEMENT = re.compile(
    r"(?:(?:好的?|嗯+|哦+|噢|ok|okay|行|收到|知道了|明白了?|了解了?|谢谢(?:你|您)?|多谢|感谢|thanks|thankyou|没问题|"
    r"好吧|可以)(?:的|啦|了|呀|哈|啊)?[,，。.!！~～]*)+"
)
_COMPLAINT_WORDS = ("投诉", "举报", "不满意", "维权", "12378", "监管", "态度差", "银保监", "金融局")
# A borrower need that asks for a way forward (beyond the desk's categories): a request, a failure.
_NEED = re.compile(
    r"能不能|能否|可不可以|可以.{0,8}吗|行吗|怎么办|怎么处理|怎么(?:提前)?还|如何|帮我|帮忙|处理一下|尽快处理|"
    r"宽限|缓几天|晚点还|延期|还不上|还不起|拿不出|失败|扣了.{0,4}(?:两|2)次|重复扣|多扣|没到账|没入账|"
    r"还在催|一直催|给我(?:朋友|家人|同事)|换卡|开.{0,4}证明|借不了|借不出|太高|多收|乱收|不合理|还显示|为什么还|缓缓|缓一缓"
)
SOLUTION_CATEGORIES = frozenset({"hardship", "complaint", "collection_conduct", "fee_dispute"})

# IDENTITY_CHECK: the agent asks for identity, the borrower answers (not a refusal); or a verification
# outside the transcript. What is account data: the desk's disclosure scan, narrowed to sentences
# about an account (a date or an amount in a maintenance notice or a worked example is none), the
# overdue status, and a third party's loan.
_IDENTITY_NOUNS = compile_prefiltered(
    r"身份证|证件|姓名|名字|手机号|手机尾号|注册手机|预留手机|后[四六346]位|验证码|出生日期|本人|身份|"
    r"(?:先生|女士|小姐)(?:本人)?吗|idnumber|lastfourdigits|registeredmobile|dateofbirth|verifyyouridentity"
)
_ASKING = re.compile(
    r"请|提供|告知|报一下|说一下|输入|确认|核对|核实|验证|核验|麻烦|吗|\?|please|reply|provide|confirm"
)
_NOT_ASKING = compile_prefiltered(
    r"^已|已核实|已验证|核验通过|验证通过|不要|切勿|不会(?:索要|要求|向您)|泄露|只能|无法|不能|请(?:他|她|.{1,4}本人)"
)
_REFUSAL = re.compile(
    r"不给|不方便|不想|不告诉|凭什么|为什么要|不愿|不提供|拒绝|直接说|不说|算了|没必要|不是(?:本人|我|他|她)|我不是"
)
# The agent says the answer did not match: identity is not verified by it.
_VERIFICATION_FAILED = compile_prefiltered(
    r"(?:信息|资料|身份|号码|后[四六346]位|尾号|姓名|登记)[^。！？]{0,10}"
    r"(?:不一致|不匹配|对不上|不符|有误|不正确|错误|不一样|不太一样|不对)|"
    r"(?:核实|验证|核验)(?:失败|未通过|没通过)|无法(?:核实|验证|确认)(?:您的)?身份|无法核实|无法验证"
)
# What a borrower volunteers to be identified by (我叫王芳 身份证尾号4418).
_VOLUNTEERED_IDENTITY = compile_prefiltered(
    r"身份证|身分证|证件|尾号|后[四六346]位|末[四六]位|手机号|我叫|本人|名字|姓名|idnumber|lastfour|mobilelast|idlast"
)
_VERIFIED_SAID = re.compile(
    r"已核实|核实通过|验证通过|核验通过|已验证|核实无误|验证成功|核对无误|(?:信息|资料|登记)(?:的?信息)?(?<!不)一致|已.{0,12}核实(?:了|您的)?身份|身份已(?:核实|验证|确认)|"
    r"identityisverified|identityhasbeenverified|verifiedyouridentity|identityconfirmed"
)
_ACCOUNT_ANCHOR = re.compile(
    r"应还|待还|未还|已还|还欠|欠款|欠了|欠|逾期|结清|余额|本金|利息|罚息|账单|还款日|还款的|还款金额|"
    r"扣款|入账|到账|绑定|合同|借款|贷款|额度|放款|月供|每期|本期|当期"
)
_WORKED_EXAMPLE = re.compile(
    r"年利率|年化|等额本息|等额本金|如果|假如|比如|例如|举例|按.{0,6}计算|免息分|最高|最低|最多|不超过|"
    r"起借|最长|最短|所有客户|一般|可以选择|可选|任选|之间|范围|都可以"
)
# A borrower's question asking to work out an example (借5000块日息万分之五借20天利息多少).
_ASKED_EXAMPLE = re.compile(
    r"日息|日利率|月息|月利率|万分之|千分之|借\d+[万千]?(?:元|块)?.{0,12}(?:利息|还多少)"
)
# A service notice (maintenance, suspended services): its dates are the service's, not an account's.
_NOTICE = re.compile(r"系统.{0,6}(?:升级|维护)|停机|暂停.{0,4}(?:还款|借款|服务|使用)")
# Account data in an English sentence (the desk's scan reads English as a contract number): an
# account's word beside an amount or a date.
_ENGLISH_ACCOUNT = re.compile(
    r"\b(?:your (?:account|loan|payment|repayment|balance|bill|instalment|installment|card)|you owe|overdue|"
    r"outstanding|payment of|amount due|due (?:on|date))\b"
)
_ENGLISH_FIGURE = re.compile(
    r"(?:rmb|cny|¥|￥|yuan)\s*\d|\d[\d,.]*\s*(?:yuan|rmb)\b|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|"
    r"jul|aug|sep|oct|nov|dec)|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}\b"
)
# Money owed or a plan: a borrower's distress about these touches their account (a hardship).
_REPAYMENT_WORDS = re.compile(
    r"还款|还钱|还上|还不|还了|要还|得还|借款|贷款|欠款|分期|延期|宽限|缓|这期|本期|repay|pay back|payment"
)
_OVERDUE_STATUS = compile_prefiltered(
    r"(?:您|你|他|她)的?(?:借款|贷款|账户|账单|这笔)?(?:目前|现在|已经|已|还)?(?:处于)?逾期(?![会将可不的])|"
    r"已经?逾期|逾期了|在(?:我们|本|贵)?(?:平台|这|这里|公司)(?:有|借)|"
    r"(?:您|你|他|她)的?(?:借款|贷款|账单|款项|还款|申请|这笔)[^。，,]{0,6}(?:已|还|未|没)(?:经)?"
    r"(?:结清|还清|入账|到账|放款|通过|逾期|还)|"
    r"(?<![如若果要])已经?(?:结清|还清|入账|到账|放款|逾期)了"
)
# An account's state told without a figure: 这期还没还, 还有两期没还, 申请被拒了, 系统显示您有一笔借款,
# 绑定的是工商银行的卡, 扣款失败了, 利息已经给您减免了, 欠我们1200.
_ACCOUNT_STATE = compile_prefiltered(
    r"(?:您|你)的?(?:这期|本期|上期|那期|上个月那期|这个月|上个月)[^。，,]{0,4}(?:还没还|没还|未还|晚了|逾期)|"
    r"(?:您|你)还有.{0,3}期(?:没|未)还|(?:您|你)(?:没有|无)(?:任何)?(?:逾期|欠款|不良|待还)|"
    r"(?:您|你)的?(?:借款|申请|贷款|订单|额度)[^。，,]{0,4}(?:在审核|审核中|被拒|未通过|没通过|已通过|通过了|被冻结|冻结了)|"
    r"系统(?:显示|查到|里)(?:您|你)|(?:您|你)的?(?:账户|账单|借款|贷款)(?:显示|查到)|"
    r"(?:您|你)(?:现在|目前|还)?(?:欠|差)(?:我们|平台)?[^。，,]{0,3}\d|"
    r"绑定的?是[^。，,]{0,8}(?:银行|卡)|(?:您|你)的?(?:扣款|还款|绑定)卡是|"
    r"(?:您|你)的?[^。，,]{0,6}扣款失败|(?:已经?|已)(?:给|为)(?:您|你)(?:减免|退款|退回|冲正|撤销)"
)
_SUPPOSING = re.compile(r"如果|若|假如|要是|万一|的话")
# A "contract number" the desk's scan reads off a compacted English sentence (andwewillreplywithin5…).
_ENGLISH_RUN = re.compile(r"[a-z]{8}")
_SERVICE_NUMBER = compile_prefiltered(
    r"(?<!\d)(?:400|800)-?\d{3}-?\d{4}(?!\d)|(?<!\d)95\d{3,4}(?!\d)|(?<!\d)(?:96110|12378|12363|110)(?!\d)"
)
_RELATION = (
    r"(?:丈夫|老公|妻子|老婆|爱人|配偶|父亲|母亲|爸爸|妈妈|儿子|女儿|哥哥|姐姐|弟弟|妹妹|亲戚|朋友|同事|"
    r"家人|家属|亲属|紧急联系人|联系人)"
)
_SPEAKER_RELATION = (
    r"(?:妈妈|母亲|妈|爸爸|父亲|爸|老婆|妻子|爱人|老公|丈夫|儿子|女儿|哥哥|姐姐|弟弟|妹妹|家人|家属|亲戚|"
    r"朋友|同事|领导|室友)"
)
_THIRD_PARTY_SPEAKER = re.compile(
    r"我是(?:他|她|借款人|[^我你说，。！？,.!?\s]{1,4}?)的?"
    + _SPEAKER_RELATION
    + r"|(?:替|帮)我?"
    + _SPEAKER_RELATION
    + r"(?:查|问)|我的?"
    + _SPEAKER_RELATION
    + r"(?:在你们|在贵|的借款|的贷款|的欠款|借的|欠的|欠了|借了)"
)
_THIRD_PARTY_LOAN = re.compile(
    _RELATION + r"[^。！？，,]{0,12}?(?:在(?:我们|本)?平台|有一笔|借了|借款|贷款|欠|逾期|未还)"
)
_NEGATED = re.compile(r"不会|不得|不能|无法|不可|绝不|不透露|不告知|不涉及|保密")
# A borrower turn that touches an account (their own or someone's): a question about it, hardship.
_ACCOUNT_REQUEST = compile_prefiltered(
    r"我的?(?:借款|贷款|欠款|账单|额度|银行卡|扣款卡|还款卡|卡|合同|账户|订单|申请)|"
    r"我(?:这个月|本月|本期|下个月|这期|上个月)|(?:扣|催|打)了?我|给我(?:打|发)|"
    r"我.{0,8}(?:还多少|要还|还款日|到账|入账|结清|逾期|欠|扣款|扣了|还了|还的|借了|借的)|我.{0,4}(?:剩下|剩余)|"
    r"(?:想|要|申请)(?:分期|延期)|"
    + _RELATION.replace("(?:", "(?:他|她|", 1)
    + r".{0,8}(?:借|欠|逾期|还款|贷款)|还不上|还不起|拿不出|没钱还|缓几天|宽限|晚点还|延期还|利息这么高|"
    r"查一下|查下|帮我查|借不了|借不出|没钱|缓缓|缓一缓|缓一下|这期|本期|还显示|(?:下个?月|下周|过几天|月底|发工资)(?:再|就)?还|再还"
)
# A question about one account's figures, asked without a pronoun (这个月要还多少); not a worked example.
_ACCOUNT_QUESTION = re.compile(
    r"还多少|还差多少|欠多少|还欠|逾期(?:几|多少)天(?!会|就|算|才|以上|以内|上)|逾期多久|哪张卡|到账了吗|入账了吗|到账没|还清了吗|结清了吗|"
    r"额度(?:是|有)?多少|什么时候扣"
)
_HYPOTHETICAL = re.compile(r"的话|如果|假如|比如|年利率|年化|等额本息|等额本金|利率")
_PRIVACY_REFUSAL = re.compile(
    r"无法(?:向您)?(?:透露|告知|提供)|不能(?:透露|告知)|属于.{0,8}隐私|只能(?:和|与|向)(?:借款人)?本人"
)

# PRIVACY without check digits: an 18-character ID (17 digits and a digit or X), a 15-digit ID or a
# card of 15–19 digits, a mobile number; digits may be spaced or dashed, a mask (*, ×) breaks them.
_CLEAR_NUMBER = compile_prefiltered(r"(?<![0-9a-z*×])[0-9](?:[0-9 \-]*[0-9])?(?:x(?![a-z]))?(?![0-9*×])")
_MOBILE_NUMBER = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_WITH_CODE = compile_prefiltered(r"(?:00)?861[3-9][0-9]{9}")
_CARD_WORDS = re.compile(r"卡|card|账号|帐号|account")
_SERIAL_WORDS = re.compile(r"流水|订单|单号|交易号|编号|批次|serial|order|reference")
_LONG_DIGITS = re.compile(r"[0-9][0-9 \-]{9,}[0-9x]")  # eleven characters or more: worth a closer look

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…\n])")
_AMOUNT = re.compile(
    r"(?:[¥￥]|人民币|rmb)\s*(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s*(?:元|块)", re.IGNORECASE
)
_FULL_DATE = compile_prefiltered(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_MONTH_DAY = compile_prefiltered(r"(?<![\d年/.-])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
# A sentence can hold account data (desk/disclosure.py) only if it has one of these: a digit, a
# currency sign, a date word, a card-tail word, or a Chinese numeral that the disclosure patterns
# would read as a sum or a date (two in a row, one before a unit or a non-Chinese character, one
# after 为/是/:). Sentences without any skip the scan, whose Traditional → Simplified step is slow;
# tests/quality/test_rubric.py checks that nothing the scan finds is skipped.
_CN_NUMERALS = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
_ANY_FIGURE = re.compile(f"[\\d{_CN_NUMERALS}]")
_SPOKEN_FIGURE = re.compile(f"[{_CN_NUMERALS}]{{2,}}|[{_CN_NUMERALS}](?=[元块期日号月])")
_MAYBE_ACCOUNT_DATA = compile_prefiltered(
    r"\d|[¥$]|rmb|cny|usd|人民币|旬|周|星期|礼拜|今天|明天|后天|今日|明日|本月|下月|下个月|月底|月初|月末|"
    r"月中|年底|尾号|末尾|结尾"
    f"|[{_CN_NUMERALS}]{{2}}|[{_CN_NUMERALS}](?=[元圆块万千百月日号]|[^\u4e00-\u9fff]|$)|[:为是][{_CN_NUMERALS}]"
)


# --- the conversation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    speaker: str  # agent, borrower, bot
    text: str
    at: datetime | None = None


@dataclass(frozen=True)
class LedgerFacts:
    """What the ledger said when the agent looked: every amount and date the agent might quote."""

    amounts_fen: frozenset[int] = frozenset()
    dates: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Conversation:
    channel: str
    turns: tuple[Turn, ...]
    verified_at: datetime | None = None  # when identity reached the level account data needs
    verified_turn: int | None = None  # or the turn at which it did (a posted transcript)
    ledger: LedgerFacts | None = None
    first_response_due: datetime | None = None  # the SLA deadline of the first answer
    first_response_minutes: int | None = None  # without a deadline: minutes from the first message
    category: str | None = None  # the ticket's category, when known
    contract_numbers: tuple[str, ...] = ()  # the borrower's, found in any shape
    public: tuple[str, ...] = ()  # not account data: the hotline, the ticket number


@dataclass(frozen=True)
class ItemResult:
    code: str
    result: str  # pass, fail, n/a
    evidence: str
    weight: int


@dataclass(frozen=True)
class Score:
    score: int
    severe: bool
    items: tuple[ItemResult, ...]

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items if item.result == "fail")

    def item(self, code: str) -> ItemResult:
        return next(item for item in self.items if item.code == code)


@dataclass(frozen=True)
class _Sentence:
    turn: int  # index of the turn
    speaker: str
    text: str  # as written, trimmed
    plain: str  # normalised: NFKC, Simplified, no spaces, lower-case
    at: datetime | None


@dataclass
class _Read:
    """A conversation cut into sentences, each normalised once (the checks share the work)."""

    conversation: Conversation
    sentences: list[_Sentence] = field(default_factory=list)
    _violations: dict[int, tuple[guard.Violation, ...]] = field(default_factory=dict)
    _by_turn: dict[int, list[_Sentence]] | None = None
    _by_speakers: dict[frozenset[str], list[_Sentence]] = field(default_factory=dict)
    examples: dict[int, bool] = field(default_factory=dict)  # turn → an example the borrower asked for

    def in_turn(self, turn: int) -> list[_Sentence]:
        """The sentences of one turn (indexed once: checks ask turn by turn)."""
        if self._by_turn is None:
            self._by_turn = {}
            for sentence in self.sentences:
                self._by_turn.setdefault(sentence.turn, []).append(sentence)
        return self._by_turn.get(turn, [])

    def violations(self, turn: int) -> tuple[guard.Violation, ...]:
        """The collections guard's findings in one whole turn (its checks see through punctuation
        put inside a word, so a turn is not cut into sentences for them)."""
        if turn not in self._violations:
            self._violations[turn] = _guard_findings(self.conversation.turns[turn].text)
        return self._violations[turn]

    def of(self, speakers: Iterable[str]) -> list[_Sentence]:
        """The sentences of these speakers, in order (listed once per set of speakers; not to be
        changed by the caller)."""
        wanted = frozenset(speakers)
        if wanted not in self._by_speakers:
            self._by_speakers[wanted] = [s for s in self.sentences if s.speaker in wanted]
        return self._by_speakers[wanted]

    def turns_of(self, speakers: Iterable[str]) -> list[int]:
        wanted = set(speakers)
        return [i for i, turn in enumerate(self.conversation.turns) if turn.speaker in wanted]

    def sentence_with(self, turn: int, code: str) -> _Sentence:
        """The sentence of `turn` the guard objects to under `code` (the first, else the whole turn)."""
        sentences = self.in_turn(turn)
        for sentence in sentences:
            if any(v.code == code for v in guard.text_violations(sentence.text)):
                return sentence
        whole = self.conversation.turns[turn]
        return _Sentence(turn, whole.speaker, whole.text.strip(), "", whole.at)


# --- reading ----------------------------------------------------------------------------------------


# The fast Simplified step (OpenCC skipped when no character can change) is the desk's.
to_simplified = disclosure.to_simplified


class _Invisible(dict[int, int | None]):
    """str.translate table dropping white space, format and control characters (as disclosure
    does), filled in as characters are met: building it for every code point takes seconds."""

    def __missing__(self, code: int) -> int | None:
        char = chr(code)
        keep = not (char.isspace() or unicodedata.category(char) in ("Cf", "Cc"))
        self[code] = code if keep else None
        return self[code]


_INVISIBLE = _Invisible()


def _strip(text: str) -> str:
    return text.translate(_INVISIBLE)


@lru_cache(maxsize=8192)  # a desk's conversations repeat their sentences (macros, greetings, closings)
def normalise(text: str) -> str:
    """The desk's disclosure normalisation (NFKC, Simplified, no spaces or format characters,
    lower-case), with the fast Simplified step."""
    return _strip(to_simplified(unicodedata.normalize("NFKC", text))).lower()


def _sentences(text: str) -> list[str]:
    parts = [part.strip() for part in _SENTENCE_END.split(text)]
    return [part for part in parts if part] or ([text.strip()] if text.strip() else [])


def read(conversation: Conversation) -> _Read:
    raw: list[tuple[int, Turn, str]] = [
        (index, turn, sentence)
        for index, turn in enumerate(conversation.turns)
        for sentence in _sentences(turn.text)
    ]
    plains = [normalise(sentence) for _, _, sentence in raw]
    reading = _Read(conversation)
    reading.sentences = [
        _Sentence(index, turn.speaker, sentence, plain, turn.at)
        for (index, turn, sentence), plain in zip(raw, plains, strict=True)
    ]
    return reading


def _quote(sentence: _Sentence | None, note: str = "") -> str:
    if sentence is None:
        return note
    who = {"agent": "客服", "borrower": "客户", "bot": "机器人", "note": "备注"}.get(
        sentence.speaker, sentence.speaker
    )
    quoted = f"{who}：「{sentence.text[:EVIDENCE_LIMIT]}」"
    return f"{quoted}（{note}）" if note else quoted


def _has(plain: str, words: Iterable[str]) -> str | None:
    return next((word for word in words if word in plain), None)


# --- the items --------------------------------------------------------------------------------------


def _greeting(reading: _Read) -> tuple[str, str]:
    """A written greeting at the opening of the agent's first message (the bot's do not count)."""
    agent = reading.of(["agent"])
    if not agent:
        return "n/a", "没有客服发言"
    first_turn = agent[0].turn
    opening = [s for s in agent if s.turn == first_turn]
    # Anywhere in the first message (an e-mail may open with a line about the borrower's letter);
    # English is read with its spaces ("Dear Mr Chen" compacts to "dearmrchen").
    polite = next((s for s in opening if _GREETING.search(s.plain) or _GREETING.search(s.text.lower())), None)
    if polite is not None:
        return "pass", _quote(polite)
    return "fail", _quote(opening[0], "首条回复未使用礼貌问候语")


def _verified(reading: _Read, sentence: _Sentence, answered: int | None) -> bool:
    """Whether identity was verified when `sentence` was said: by the desk (`verified_at`), from a
    turn of a posted transcript (`verified_turn`), or by the borrower's answer to the agent's
    identity question (`answered`, the turn of the answer)."""
    conversation = reading.conversation
    at, verified_at = sentence.at, conversation.verified_at
    if verified_at is not None and at is not None and at >= verified_at:
        return True
    if conversation.verified_turn is not None and sentence.turn >= conversation.verified_turn:
        return True
    if answered is not None and sentence.turn > answered:
        return True
    return _said_verified(reading, sentence)


def _said_verified(reading: _Read, sentence: _Sentence) -> bool:
    """The company said identity is verified at or before this sentence (已根据您提供的信息核实身份,
    with what the borrower volunteered; your identity is verified)."""
    for said in reading.of(COMPANY):
        if _VERIFIED_SAID.search(said.plain) and not _VERIFICATION_FAILED.search(said.plain):
            return _volunteered_before(reading, said.turn)
        if said is sentence:
            return False
    return False


def _volunteered_before(reading: _Read, turn: int) -> bool:
    """Whether the borrower gave something to be identified by before this turn: an agent saying
    已核实 out of nothing has verified nothing."""
    return any(s.turn < turn and _VOLUNTEERED_IDENTITY.search(s.plain) for s in reading.of(["borrower"]))


def _asks_identity(sentence: _Sentence) -> bool:
    plain = sentence.plain
    return bool(_IDENTITY_NOUNS.search(plain) and _ASKING.search(plain) and not _NOT_ASKING.search(plain))


def _identity_answered(reading: _Read) -> tuple[int | None, _Sentence | None]:
    """The borrower's turn answering the first identity question the company asked, if not a refusal;
    and that question."""
    asked = None
    for sentence in reading.sentences:
        if sentence.speaker in COMPANY and asked is None and _asks_identity(sentence):
            asked = sentence
        elif sentence.speaker == "borrower" and asked is not None and sentence.turn > asked.turn:
            answer = " ".join(s.plain for s in reading.in_turn(sentence.turn))
            if _REFUSAL.search(answer):
                asked = None  # refused: the next question may still be answered
                continue
            if _rejected(reading, sentence.turn):
                asked = None  # the agent said it did not match: a new question must be answered
                continue
            return sentence.turn, asked
    return None, asked


def _rejected(reading: _Read, answer_turn: int) -> bool:
    """Whether the company's next turn after the borrower's answer says the answer did not match."""
    reply = next((t for t in reading.turns_of(COMPANY) if t > answer_turn), None)
    if reply is None:
        return False
    said = "".join(s.plain for s in reading.in_turn(reply))
    return bool(_VERIFICATION_FAILED.search(said)) and not _VERIFIED_SAID.search(said)


def _third_party_turn(reading: _Read) -> int | None:
    """The first borrower turn in which the writer says they are someone else (a relative …)."""
    return next((s.turn for s in reading.of(["borrower"]) if _THIRD_PARTY_SPEAKER.search(s.plain)), None)


def _third_party_loan(sentence: _Sentence) -> str | None:
    """A third party's loan named by the company (不会联系您的家人 is no such thing)."""
    found = _THIRD_PARTY_LOAN.search(sentence.plain)
    if found is None or _NEGATED.search(found.group()):
        return None
    return found.group()


def may_hold_account_data(plain: str, contract_numbers: Sequence[str] = ()) -> bool:
    """False only when the desk's disclosure scan cannot find anything in this normalised text."""
    if _MAYBE_ACCOUNT_DATA.search(plain):
        return True
    return any(number and _compact(number) in plain for number in contract_numbers)


# A conversation's contract numbers and public strings (the hotline, its ticket number) are read again
# for each of its sentences.
_compact = lru_cache(maxsize=1024)(disclosure.compact)
_normalised = lru_cache(maxsize=1024)(disclosure.normalise)


def _guard_findings(text: str) -> tuple[guard.Violation, ...]:
    return language.findings(text)


def check_language(conversations: Iterable[Conversation]) -> None:
    """Run the guard over the staff-written turns of many conversations before they are scored
    (`language.check_many`): nothing changes but speed."""
    language.check_many(
        turn.text
        for conversation in conversations
        for turn in conversation.turns
        if turn.speaker in STAFF_WRITTEN
    )


@lru_cache(maxsize=8192)
def _disclosure_findings(
    plain: str, contracts: tuple[str, ...], public: tuple[str, ...]
) -> tuple[disclosure.Finding, ...]:
    """The desk's scan of a sentence, from its normalised text (`normalise` is the desk's)."""
    return tuple(disclosure.find_in_normalised(plain, contract_numbers=contracts, public=public))


def _account_data(reading: _Read, sentence: _Sentence) -> tuple[disclosure.Finding, ...]:
    conversation = reading.conversation
    plain = sentence.plain  # what the scan reads: the same normalisation
    if not may_hold_account_data(plain, conversation.contract_numbers):
        return ()
    # Only what can change the scan's answer goes into the cache key, so that a sentence repeated in
    # other conversations (other tickets, other borrowers) is scanned once: a public string changes it
    # only where it occurs, a contract number only where each of its characters does.
    public = tuple(value for value in conversation.public if (found := _normalised(value)) and found in plain)
    letters = set(plain)
    contracts = tuple(n for n in conversation.contract_numbers if letters.issuperset(_compact(n)))
    return _disclosure_findings(plain, contracts, public)


def _account_disclosure(reading: _Read, sentence: _Sentence) -> str | None:
    """What account data this company sentence gives, described, or None.

    The desk's scan finds every amount and date; QA counts them as account data only in a sentence
    about an account (应还, 逾期, 还款日 …) that is not a worked example (年化, 如果 …). Card and ID
    tails, contract numbers and long numbers always count; the hotline and service numbers never.
    """
    plain = sentence.plain
    if third := _third_party_loan(sentence):
        return f"第三方的借款信息「{third}」"
    found = [
        f
        for f in _account_data(reading, sentence)
        if not _SERVICE_NUMBER.fullmatch(f.text)
        and not (f.kind == "contract" and _ENGLISH_RUN.search(f.text))
    ]
    about_account = (
        _ACCOUNT_ANCHOR.search(plain) and not _NOTICE.search(plain) and not _worked_example(reading, sentence)
    )
    kept = [
        f
        for f in found
        if f.kind not in ("amount", "date")
        or (about_account and not (f.kind == "amount" and _rate(plain, f.text)))
    ]
    if kept:
        return disclosure.describe(kept)[0]
    return _state_told(plain, sentence.text)


@lru_cache(maxsize=8192)  # sentences repeat across a desk's conversations
def _state_told(plain: str, text: str) -> str | None:
    """Account data a sentence tells without a figure the scan finds: English account data, the
    overdue status, an account's state."""
    if _ENGLISH_RUN.search(plain):
        english = text.lower()
        if _ENGLISH_ACCOUNT.search(english) and (figure := _ENGLISH_FIGURE.search(english)):
            return f"账户信息「{figure.group()}」"
    if status := _OVERDUE_STATUS.search(plain):
        return f"逾期状态「{status.group()}」"
    if (state := _ACCOUNT_STATE.search(plain)) and not _SUPPOSING.search(plain) and not _NOTICE.search(plain):
        return f"账户状态「{state.group()}」"
    return None


def _rate(plain: str, found: str) -> bool:
    """An amount the scan found that is a percentage (罚息按0.05%每日计算): a rate, not a sum owed."""
    at = plain.find(found)
    return at >= 0 and plain[at + len(found) : at + len(found) + 1] in ("%", "‰")


def _worked_example(reading: _Read, sentence: _Sentence) -> bool:
    """A sentence working out an example (年化, 等额本息, 如果 …), or answering a borrower's question
    that asked for one."""
    if _WORKED_EXAMPLE.search(sentence.plain):
        return True
    if sentence.turn not in reading.examples:
        reading.examples[sentence.turn] = _example_asked(reading, sentence.turn)
    return reading.examples[sentence.turn]


def _example_asked(reading: _Read, turn: int) -> bool:
    """Whether the borrower's last message before `turn` asked for an example, or the conversation so
    far is about an example and never about the borrower's own account."""
    asked = [s for s in reading.of(["borrower"]) if s.turn < turn]
    last = [s for s in asked if s.turn == asked[-1].turn] if asked else []
    if any(_WORKED_EXAMPLE.search(s.plain) or _ASKED_EXAMPLE.search(s.plain) for s in last):
        return True
    example = any(_ASKED_EXAMPLE.search(s.plain) or _HYPOTHETICAL.search(s.plain) for s in asked)
    return example and not any(_ACCOUNT_REQUEST.search(s.plain) for s in asked)


@lru_cache(maxsize=4096)
def _scam_story(text: str) -> bool:
    """A borrower's story of an impostor (the assistant's scam rules): a scam warning, not their account."""
    return scam.screen(assistant_text(text)).suspected


def _asks_about_account(plain: str) -> bool:
    if _ACCOUNT_REQUEST.search(plain):
        return True
    return bool(_ACCOUNT_QUESTION.search(plain)) and not _HYPOTHETICAL.search(plain)


def _touches_account(reading: _Read, asked: _Sentence | None) -> _Sentence | None:
    """The sentence showing the conversation is about someone's account, if any."""
    if asked is not None:
        return asked
    borrower = next(
        (s for s in reading.of(["borrower"]) if _asks_about_account(s.plain) and not _scam_story(s.text)),
        None,
    )
    if borrower is not None:
        return borrower
    borrower_said = reading.of(["borrower"])
    hardship = _distress(reading)
    about_repaying = any(
        _REPAYMENT_WORDS.search(s.plain) or _REPAYMENT_WORDS.search(s.text.lower()) for s in borrower_said
    )
    if hardship is not None and about_repaying and not any(_scam_story(s.text) for s in borrower_said):
        return hardship
    return next((s for s in reading.of(COMPANY) if _PRIVACY_REFUSAL.search(s.plain)), None)


def _changes_nothing(
    reading: _Read, sentence: _Sentence, answered: int | None, third_party: int | None
) -> bool:
    """Whether, once account data was given after verification, this company sentence cannot change
    the identity verdict whatever it discloses: said after verification, to the borrower, naming no
    third party's loan. Its disclosure scan (the costly part) is then skipped."""
    to_borrower = third_party is None or sentence.turn <= third_party
    verified = _verified(reading, sentence, answered)
    return to_borrower and verified and _third_party_loan(sentence) is None


def _identity_check(reading: _Read) -> tuple[str, str]:
    answered, asked = _identity_answered(reading)
    third_party = _third_party_turn(reading)
    disclosed = None
    for sentence in reading.of(COMPANY):
        if disclosed is not None and _changes_nothing(reading, sentence, answered, third_party):
            continue
        what = _account_disclosure(reading, sentence)
        if what is None:
            continue
        if third_party is not None and sentence.turn > third_party:
            return "fail", _quote(sentence, f"向第三方透露账户信息：{what}")
        if what.startswith("第三方"):
            return "fail", _quote(sentence, f"透露{what}")
        if not _verified(reading, sentence, answered):
            return "fail", _quote(sentence, f"身份核验前透露账户信息：{what}")
        disclosed = disclosed or sentence
    if disclosed is not None:
        return "pass", _quote(disclosed, "核验后提供账户信息")
    touched = _touches_account(reading, asked)
    if touched is None:
        return "n/a", "未涉及账户"
    return "pass", _quote(touched, "涉及账户，核验前未透露账户信息")


def _fen(text: str) -> int | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return int(value * 100) if value < 10**12 else None


def _quoted_dates(plain: str, today_year: int | None) -> list[tuple[int | None, int, int]]:
    found: list[tuple[int | None, int, int]] = [
        (int(y), int(m), int(d)) for y, m, d in _FULL_DATE.findall(plain)
    ]
    found += [(None, int(m), int(d)) for m, d in _MONTH_DAY.findall(plain)]
    return found


def _date_matches(quoted: tuple[int | None, int, int], dates: frozenset[date]) -> bool:
    year, month, day = quoted
    return any(d.month == month and d.day == day and (year is None or d.year == year) for d in dates)


@lru_cache(maxsize=8192)
def _figures(plain: str) -> str:
    """A normalised sentence with its spoken Chinese figures as digits (六千元 → 6000元)."""
    if not _SPOKEN_FIGURE.search(plain):
        return plain
    return numerals_to_digits(percents_to_digits(plain) if "百分之" in plain else plain)


def _accuracy(reading: _Read) -> tuple[str, str]:
    """Against the ledger when there is one; else the arithmetic the conversation lets one check."""
    facts = reading.conversation.ledger
    if facts is not None and (facts.amounts_fen or facts.dates):
        return _accuracy_against_ledger(reading, facts)
    if not any(_ANY_FIGURE.search(s.plain) for s in reading.of(COMPANY)):
        return "n/a", "无账务数据可比对，文中无可核算的金额"
    context = "".join(_figures(s.plain) for s in reading.sentences)
    checked = None
    quotes = [
        (turn, "".join(_figures(s.plain) for s in reading.in_turn(turn)))
        for turn in reading.turns_of(COMPANY)
    ]
    if (changed := arithmetic.restated(quotes)) is not None:
        turn, found = changed
        return "fail", _quote(reading.in_turn(turn)[0], found.what)
    for turn, quoted in quotes:
        sentences = reading.in_turn(turn)
        letter = reading.conversation.turns[turn].text.lower() if _ENGLISH_RUN.search(quoted) else ""
        for found in [*arithmetic.check(context, quoted), *arithmetic.english(letter)]:
            sentence = next((s for s in sentences if re.search(r"\d", s.plain)), sentences[0])
            if not found.ok:
                return "fail", _quote(sentence, f"计算有误：{found.what}")
            checked = checked or (sentence, found.what)
    if checked is None:
        return "n/a", "无账务数据可比对，文中无可核算的金额"
    return "pass", _quote(checked[0], checked[1])


def _accuracy_against_ledger(reading: _Read, facts: LedgerFacts) -> tuple[str, str]:
    checked = None
    for sentence in reading.of(COMPANY):
        amounts = [_fen(a or b) for a, b in _AMOUNT.findall(sentence.plain)]
        for amount in amounts:
            if amount is not None and facts.amounts_fen and amount not in facts.amounts_fen:
                return "fail", _quote(sentence, f"金额 {amount / 100:.2f} 元与账务不符")
        for quoted in _quoted_dates(sentence.plain, None):
            if facts.dates and not _date_matches(quoted, facts.dates):
                return "fail", _quote(sentence, "日期与账务不符")
        if amounts or _quoted_dates(sentence.plain, None):
            checked = checked or sentence
    if checked is None:
        return "n/a", "客服未报金额或日期"
    return "pass", _quote(checked)


def _expresses_distress(plain: str) -> bool:
    """A distress word not denied just before it (没什么困难 is none)."""
    return any(
        not _DENIED_BEFORE.search(plain[max(0, found.start() - 4) : found.start()])
        for found in _DISTRESS.finditer(plain)
    )


def _distress(reading: _Read) -> _Sentence | None:
    """The borrower's first sentence of distress, worry or hardship."""
    return next((s for s in reading.of(["borrower"]) if _expresses_distress(s.plain)), None)


def _acknowledges(sentence: _Sentence) -> bool:
    """An agent sentence acknowledging the borrower's feelings, not one dismissing them after a
    token 理解 (理解理解，但借钱还钱天经地义)."""
    return bool(_has(sentence.plain, _EMPATHY_WORDS)) and not _DISMISSAL.search(sentence.plain)


def _empathy(reading: _Read) -> tuple[str, str]:
    distress = _distress(reading)
    if distress is None:
        return "n/a", "客户未表达困难或情绪"
    answer = next(
        (s for s in reading.of(["agent"]) if s.turn > distress.turn and _acknowledges(s)),
        None,
    )
    if answer is None:
        return "fail", _quote(distress, "客户表达困难后客服未予回应")
    return "pass", _quote(answer)


def _needs_solution(reading: _Read) -> _Sentence | None:
    for sentence in reading.of(["borrower"]):
        if _has(sentence.plain, _COMPLAINT_WORDS) or _NEED.search(sentence.plain):
            return sentence
        # A fee question (利率, 手续费) is no dispute until the borrower disputes it (太高, 多收 …).
        if categorise.suggest(sentence.plain).category in SOLUTION_CATEGORIES - {"fee_dispute"}:
            return sentence
    return None


def _offers_solution(sentence: _Sentence) -> bool:
    offers = _SOLUTION.search(sentence.plain) or _SOLUTION_ENGLISH.search(sentence.text.lower())
    return bool(offers) and not _NO_SOLUTION.search(sentence.plain)


def _solution_offered(reading: _Read) -> tuple[str, str]:
    """Pass when the agent states what will happen or what the borrower can do (after the borrower's
    need — hardship, complaint, request, failure — if there is one); fail when the agent states
    neither; n/a only without an agent turn. A reviewer expects it of every conversation."""
    agent = reading.of(["agent"])
    if not agent:
        return "n/a", "没有客服发言"
    trigger = _needs_solution(reading)
    after = trigger.turn if trigger is not None else -1
    offer = next((s for s in agent if s.turn > after and _offers_solution(s)), None)
    if offer is not None:
        return "pass", _quote(offer)
    if trigger is not None:
        return "fail", _quote(trigger, "未给出方案或下一步")
    return "fail", _quote(agent[-1], "未说明后续安排或客户可以怎么做")


def _banned_language(reading: _Read) -> tuple[str, str]:
    for turn in reading.turns_of(STAFF_WRITTEN):
        violations = [v for v in reading.violations(turn) if v.code != "PRIVACY"]
        if violations:
            found = "；".join(f"{v.message_zh}：{v.evidence}" for v in violations)
            return "fail", _quote(reading.sentence_with(turn, violations[0].code), found)
    return "pass", "未发现威胁、辱骂、冒充权威或虚假后果用语"


def _id_shaped(run: str, digits: str) -> bool:
    """An 18- or 15-character ID number by its shape: a region and a birth date (its check digit is
    not looked at)."""
    if len(run) == 18 and digits[:17].isdigit() and len(digits) >= 17:
        year, month, day = int(run[6:10]), int(run[10:12]), int(run[12:14])
        return run[0] in "123456789" and 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31
    if len(run) == 15 and run.isdigit():
        month, day = int(run[8:10]), int(run[10:12])
        return run[0] in "123456789" and 1 <= month <= 12 and 1 <= day <= 31
    return False


def clear_numbers(plain: str) -> list[str]:
    """Full ID numbers, card numbers and mobile numbers written in clear in normalised text, whatever
    their check digits (masked: the first three and last four digits)."""
    found = []
    # Sixteen to nineteen digits with a card named nearby are a card, whatever the issuer's prefix.
    card_context = bool(_CARD_WORDS.search(plain)) and not _SERIAL_WORDS.search(plain)
    for match in _CLEAR_NUMBER.finditer(plain):
        run = match.group().replace("-", "").replace(" ", "")
        digits = run.rstrip("x")
        is_id = _id_shaped(run, digits)
        card_prefix = 15 <= len(run) <= 19 and run[0] in "34569"
        named_card = 16 <= len(run) <= 19 and card_context
        is_card = run.isdigit() and (card_prefix or named_card)
        mobile = _MOBILE_NUMBER.fullmatch(run) or _MOBILE_WITH_CODE.fullmatch(run)
        if is_id or is_card or mobile:
            found.append(guard.mask_number(run))
    return found


def _privacy(reading: _Read) -> tuple[str, str]:
    """No full identifier in clear in any company turn or note (the guard's check-digit scan and a
    scan without check digits), and no third party's data: a third party's loan, or account data
    given to someone who said they are not the borrower."""
    third_party = _third_party_turn(reading)
    for turn in reading.turns_of(STAFF_WRITTEN):
        violations = [v for v in reading.violations(turn) if v.code == "PRIVACY"]
        if violations:
            found = f"{violations[0].message_zh}：{violations[0].evidence}"
            return "fail", _quote(reading.sentence_with(turn, "PRIVACY"), found)
        for sentence in reading.in_turn(turn):
            if _LONG_DIGITS.search(sentence.plain) and (numbers := clear_numbers(sentence.plain)):
                return "fail", _quote(sentence, f"明文证件号、卡号或手机号：{numbers[0]}")
            if third := _third_party_loan(sentence):
                return "fail", _quote(sentence, f"透露第三方的借款信息：{third}")
            told_third_party = third_party is not None and turn > third_party and sentence.speaker in COMPANY
            if told_third_party and (what := _account_disclosure(reading, sentence)):
                return "fail", _quote(sentence, f"向第三方透露账户信息：{what}")
    return "pass", "未发现明文身份证号、银行卡号、手机号或第三方信息"


def _closing(reading: _Read) -> tuple[str, str]:
    agent = reading.of(["agent"])
    if not agent:
        return "n/a", "没有客服发言"
    last_turn = agent[-1].turn
    closing = [s for s in agent if s.turn == last_turn]
    found = next((s for s in closing if _has(s.plain, _CLOSING_WORDS)), None)
    if found is None and reading.conversation.channel == "email":
        # A letter that ends on its next step (请在App…提交, 可在…下载) and a signature closes.
        found = next((s for s in closing if _offers_solution(s)), None)
    if found is None:
        return "fail", _quote(closing[-1], "缺少结束语、下一步说明或致谢")
    return "pass", _quote(found)


def _waits(reading: _Read) -> list[tuple[_Sentence, _Sentence]]:
    """(the borrower's first unanswered message, the agent's answer) for every answer, in order."""
    waits = []
    waiting: _Sentence | None = None
    for sentence in reading.sentences:
        if sentence.at is None:
            continue
        if sentence.speaker == "borrower" and waiting is None:
            waiting = sentence
        elif sentence.speaker == "agent" and waiting is not None and sentence.at >= waiting.at:
            if _holding(reading, sentence):
                continue  # 请稍等，我帮您查一下: the answer is still to come
            if not _goodbye_after_thanks(reading, waiting, sentence):
                waits.append((waiting, sentence))
            waiting = None
    return waits


def _holding(reading: _Read, sentence: _Sentence) -> bool:
    """An agent turn that only asks the borrower to wait (您好，请稍等，我帮您查一下) answers nothing yet."""
    said = "".join(s.plain for s in reading.in_turn(sentence.turn))
    return bool(_HOLDING.fullmatch(said))


def _goodbye_after_thanks(reading: _Read, message: _Sentence, answer: _Sentence) -> bool:
    """A borrower's 好的，谢谢 answered by nothing but a goodbye: nobody waited for that."""
    if not _ACKNOWLEDGEMENT.fullmatch(message.plain):
        return False
    return all(_has(s.plain, _CLOSING_WORDS) for s in reading.in_turn(answer.turn))


def _response_time(reading: _Read) -> tuple[str, str]:
    """The first answer by the ticket's first-response deadline (or within `first_response_minutes`
    of the borrower's first message); with `first_response_minutes`, every later answer within as
    many minutes of the message it answers too."""
    conversation = reading.conversation
    waits = _waits(reading)
    if not waits:
        return "n/a", "无法计算首次响应时间"
    (asked, answered), later = waits[0], waits[1:]
    assert asked.at is not None and answered.at is not None  # _waits keeps timed sentences only
    limit = conversation.first_response_minutes
    due = conversation.first_response_due
    if due is None and limit is not None:
        due = asked.at + timedelta(minutes=limit)
    if due is None:
        return "n/a", "无响应时限"
    waited = int((answered.at - asked.at).total_seconds() // 60)
    if answered.at > due:
        return "fail", _quote(answered, f"首次响应用时 {waited} 分钟，超出时限")
    for message, answer in later if limit is not None else ():
        assert message.at is not None and answer.at is not None
        if answer.at > message.at + timedelta(minutes=limit):
            late = int((answer.at - message.at).total_seconds() // 60)
            return "fail", _quote(answer, f"客户等待 {late} 分钟才得到回复，超出 {limit} 分钟")
    return "pass", _quote(answered, f"{waited} 分钟内首次响应")


CHECKS = {
    "GREETING": _greeting,
    "IDENTITY_CHECK": _identity_check,
    "ACCURACY": _accuracy,
    "EMPATHY": _empathy,
    "SOLUTION_OFFERED": _solution_offered,
    "BANNED_LANGUAGE": _banned_language,
    "PRIVACY": _privacy,
    "CLOSING": _closing,
    "RESPONSE_TIME": _response_time,
}


def score(
    conversation: Conversation, weights: Mapping[str, int], *, severe_zeroes_score: bool = True
) -> Score:
    """Check the conversation against the rubric `weights` (code → weight; codes not named are skipped).

    The score is 100 × (weights of passed items) / (weights of applicable items), rounded half up;
    100 when no weighted item applies. A severe failure makes it 0 when `severe_zeroes_score`.
    """
    reading = read(conversation)
    items = []
    for code in CODES:
        if code not in weights:
            continue
        result, evidence = CHECKS[code](reading)
        items.append(ItemResult(code, result, evidence, weights[code]))
    severe = any(item.result == "fail" and item.code in SEVERE_CODES for item in items)
    applicable = sum(item.weight for item in items if item.result != "n/a")
    passed = sum(item.weight for item in items if item.result == "pass")
    value = 100 if applicable == 0 else (200 * passed + applicable) // (2 * applicable)
    if severe and severe_zeroes_score:
        value = 0
    return Score(value, severe, tuple(items))
