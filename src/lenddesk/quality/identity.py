"""IDENTITY_CHECK: was identity verified before any account data was given? Pure.

Verified: by the desk (`verified_at`), from a turn of a posted transcript (`verified_turn`), by the
borrower's answer to the agent's identity question (unless the agent says it does not match), or
by the agent confirming what the borrower volunteered. Account data: the desk's disclosure scan,
narrowed to sentences about an account (not a worked example, a product's rules or a service
notice), the overdue status and an account's state told without a figure, English account data,
and a third party's loan. docs/QUALITY.md gives the rule with its examples.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from lenddesk.assistant import scam
from lenddesk.assistant.normalise import normalise as assistant_text
from lenddesk.core.patterns import compile_prefiltered
from lenddesk.desk import disclosure
from lenddesk.quality.transcript import COMPANY, Reading, Sentence, distress, quote

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
ENGLISH_RUN = re.compile(r"[a-z]{8}")
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

# A sentence can hold account data (desk/disclosure.py) only if it has one of these: a digit, a
# currency sign, a date word, a card-tail word, or a Chinese numeral that the disclosure patterns
# would read as a sum or a date (two in a row, one before a unit or a non-Chinese character, one
# after 为/是/:). Sentences without any skip the scan, whose Traditional → Simplified step is slow;
# tests/quality/test_rubric.py checks that nothing the scan finds is skipped.
CN_NUMERALS = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
_MAYBE_ACCOUNT_DATA = compile_prefiltered(
    r"\d|[¥$]|rmb|cny|usd|人民币|旬|周|星期|礼拜|今天|明天|后天|今日|明日|本月|下月|下个月|月底|月初|月末|"
    r"月中|年底|尾号|末尾|结尾"
    f"|[{CN_NUMERALS}]{{2}}|[{CN_NUMERALS}](?=[元圆块万千百月日号]|[^\u4e00-\u9fff]|$)|[:为是][{CN_NUMERALS}]"
)


def _verified(reading: Reading, sentence: Sentence, answered: int | None) -> bool:
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


def _said_verified(reading: Reading, sentence: Sentence) -> bool:
    """The company said identity is verified at or before this sentence (已根据您提供的信息核实身份,
    with what the borrower volunteered; your identity is verified)."""
    key = ("confirmed at", 0)
    if key not in reading.memo:
        reading.memo[key] = _confirmed_at(reading)
    confirmed = reading.memo[key]
    if confirmed is None:
        return False
    company = reading.of(COMPANY)
    return any(said is sentence for said in company[confirmed:])


def _confirmed_at(reading: Reading) -> int | None:
    """The position among the company's sentences of the first that confirms identity, if the
    borrower had volunteered something to be identified by before it; else None."""
    for position, said in enumerate(reading.of(COMPANY)):
        if _VERIFIED_SAID.search(said.plain) and not _VERIFICATION_FAILED.search(said.plain):
            return position if _volunteered_before(reading, said.turn) else None
    return None


def _volunteered_before(reading: Reading, turn: int) -> bool:
    """Whether the borrower gave something to be identified by before this turn: an agent saying
    已核实 out of nothing has verified nothing."""
    return any(s.turn < turn and _VOLUNTEERED_IDENTITY.search(s.plain) for s in reading.of(["borrower"]))


def _asks_identity(sentence: Sentence) -> bool:
    plain = sentence.plain
    return bool(_IDENTITY_NOUNS.search(plain) and _ASKING.search(plain) and not _NOT_ASKING.search(plain))


def _identity_answered(reading: Reading) -> tuple[int | None, Sentence | None]:
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


def _rejected(reading: Reading, answer_turn: int) -> bool:
    """Whether the company's next turn after the borrower's answer says the answer did not match."""
    reply = next((t for t in reading.turns_of(COMPANY) if t > answer_turn), None)
    if reply is None:
        return False
    said = "".join(s.plain for s in reading.in_turn(reply))
    return bool(_VERIFICATION_FAILED.search(said)) and not _VERIFIED_SAID.search(said)


def third_party_turn(reading: Reading) -> int | None:
    """The first borrower turn in which the writer says they are someone else (a relative …)."""
    return next((s.turn for s in reading.of(["borrower"]) if _THIRD_PARTY_SPEAKER.search(s.plain)), None)


def third_party_loan(sentence: Sentence) -> str | None:
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


@lru_cache(maxsize=8192)
def _disclosure_findings(
    plain: str, contracts: tuple[str, ...], public: tuple[str, ...]
) -> tuple[disclosure.Finding, ...]:
    """The desk's scan of a sentence, from its normalised text (`normalise` is the desk's)."""
    return tuple(disclosure.find_in_normalised(plain, contract_numbers=contracts, public=public))


def account_data(reading: Reading, sentence: Sentence) -> tuple[disclosure.Finding, ...]:
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


def account_disclosure(reading: Reading, sentence: Sentence) -> str | None:
    """What account data this company sentence gives, described, or None.

    The desk's scan finds every amount and date; QA counts them as account data only in a sentence
    about an account (应还, 逾期, 还款日 …) that is not a worked example (年化, 如果 …). Card and ID
    tails, contract numbers and long numbers always count; the hotline and service numbers never.
    """
    plain = sentence.plain
    if third := third_party_loan(sentence):
        return f"第三方的借款信息「{third}」"
    found = [
        f
        for f in account_data(reading, sentence)
        if not _SERVICE_NUMBER.fullmatch(f.text) and not (f.kind == "contract" and ENGLISH_RUN.search(f.text))
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
    if ENGLISH_RUN.search(plain):
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


def _worked_example(reading: Reading, sentence: Sentence) -> bool:
    """A sentence working out an example (年化, 等额本息, 如果 …), or answering a borrower's question
    that asked for one."""
    if _WORKED_EXAMPLE.search(sentence.plain):
        return True
    key = ("example asked", sentence.turn)
    if key not in reading.memo:
        reading.memo[key] = _example_asked(reading, sentence.turn)
    return bool(reading.memo[key])


def _example_asked(reading: Reading, turn: int) -> bool:
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


def _touches_account(reading: Reading, asked: Sentence | None) -> Sentence | None:
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
    hardship = distress(reading)
    about_repaying = any(
        _REPAYMENT_WORDS.search(s.plain) or _REPAYMENT_WORDS.search(s.text.lower()) for s in borrower_said
    )
    if hardship is not None and about_repaying and not any(_scam_story(s.text) for s in borrower_said):
        return hardship
    return next((s for s in reading.of(COMPANY) if _PRIVACY_REFUSAL.search(s.plain)), None)


def _changes_nothing(
    reading: Reading, sentence: Sentence, answered: int | None, third_party: int | None
) -> bool:
    """Whether, once account data was given after verification, this company sentence cannot change
    the identity verdict whatever it discloses: said after verification, to the borrower, naming no
    third party's loan. Its disclosure scan (the costly part) is then skipped."""
    to_borrower = third_party is None or sentence.turn <= third_party
    verified = _verified(reading, sentence, answered)
    return to_borrower and verified and third_party_loan(sentence) is None


def identity_check(reading: Reading) -> tuple[str, str]:
    answered, asked = _identity_answered(reading)
    third_party = third_party_turn(reading)
    disclosed = None
    for sentence in reading.of(COMPANY):
        if disclosed is not None and _changes_nothing(reading, sentence, answered, third_party):
            continue
        what = account_disclosure(reading, sentence)
        if what is None:
            continue
        if third_party is not None and sentence.turn > third_party:
            return "fail", quote(sentence, f"向第三方透露账户信息：{what}")
        if what.startswith("第三方"):
            return "fail", quote(sentence, f"透露{what}")
        if not _verified(reading, sentence, answered):
            return "fail", quote(sentence, f"身份核验前透露账户信息：{what}")
        disclosed = disclosed or sentence
    if disclosed is not None:
        return "pass", quote(disclosed, "核验后提供账户信息")
    touched = _touches_account(reading, asked)
    if touched is None:
        return "n/a", "未涉及账户"
    return "pass", quote(touched, "涉及账户，核验前未透露账户信息")
