# ruff: noqa: E501  (phrase banks: one line of the bank per line of text)
"""Write the guard model's training set: src/lenddesk/collections/data/guard_train.jsonl.

Deterministic (fixed seed): hand-written phrase banks per code, combined with frames (greetings,
conditions, closings) in many styles — formal SMS, colloquial chat, pinyin and initials, emoji,
Traditional and Hong Kong characters, Cantonese, full-width, English — and hard negatives (negated
and factual statements, anti-scam notices, dispute clauses, lawful consequences, hardship offers,
call-back-only messages to third parties). Rows: {"text", "codes", "to_third_party"}.

    PYTHONPATH=src python scripts/guard_training_data.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import opencc

OUT = Path(__file__).resolve().parent.parent / "src/lenddesk/collections/data/guard_train.jsonl"
SEED = 20261207

NAMES = ["张先生", "李女士", "王先生", "刘女士", "陈先生", "赵女士", "周先生", "吴女士", "孙先生", "马女士"]
THIRD_NAMES = ["张伟", "李娜", "王磊", "刘洋", "陈静", "赵强", "周敏", "吴刚"]
LENDERS = ["某某金融", "安心贷", "小赢钱包", "融易借", "速借平台", "我司", "本平台"]
GREETINGS = ["", "您好，", "你好，", "尊敬的客户，", "【{lender}】", "{name}您好，", "{name}，", "喂，", "亲，"]
CONDITIONS = [
    "再不还",
    "今天不还",
    "不还钱",
    "你要是还躲着",
    "再拖下去",
    "敢不接电话",
    "不处理的话",
    "今晚12点前不到账",
    "三天内不还清",
    "还不还",
    "再装死",
    "你继续拖",
    "不给个说法",
    "明天中午前没钱",
    "这次再失联",
]
CLOSINGS = ["", "。", "！", "，你自己看着办。", "，好自为之。", "，别说没提醒你。", "。速回电。", "!!!", "，听清楚了没"]


def amount(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(300, 48000):,}.{rng.randint(0, 99):02d}元",
            f"{rng.randint(300, 48000)}元",
            f"{rng.randint(3, 99)}00块",
            f"¥{rng.randint(300, 48000)}",
        ]
    )


def date(rng: random.Random) -> str:
    return rng.choice([f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日", f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "本月底", "明天", "周五"])


# --- violations ---------------------------------------------------------------------------------

THREAT = """
我们就去你家门口等你|你家小区我们已经摸清楚了|我们知道你孩子在哪个学校上学|你在哪个城市我们都清楚
你躲到哪里都没用|天涯海角也能找到你|你跑不掉的|会发生什么我可不敢保证|到时候出了什么事别怪我们
小心你家里人|你老婆孩子的安全你自己掂量|我们的人今晚就在你楼下|你的电话会被我们打爆|让你手机24小时响个不停
我们会一直轰炸你的电话|呼死你|让你全家不得安宁|后果自负|hou果自负|后果zifu|hgzf|后果自己承担，别怪我们不客气
有你好受的|让你吃不了兜着走|给你一🔪|小心🔪|送你个💣|你会后悔的|别逼我们用别的手段|我们有的是办法对付你
晚上睡觉锁好门|你家门口那辆车还好吧|打断你的腿|弄死你|砍死你|杀你全家|我们兄弟会去找你聊聊|你上下班的路我们都知道
你爸妈住的村子我们去过了|你女儿放学几点我们都知道|今天不还明天你就知道厉害|别让我们亲自过来|等我们找上门就不是还钱这么简单了
你最好祈祷别让我碰到你|这事没完|咱们走着瞧|你给我等着|你出门最好看看身后|你的手机号我们已经挂到各种网站上了
我们会安排人24小时守着你|你躲得了初一躲不过十五|让你在这个城市待不下去|见一次打一次|你家的门牌号我们都有
今晚就让你尝尝厉害|我保证你会很惨|你等着收尸吧|你会为此付出代价|你想清楚了，后面的事情可不好说
我们的人已经到你们小区门口了|你孩子学校门口我们会去等|我们会让你社死|你住的地方我们一清二楚|i know where you live
you can't hide from us|we will find you|something bad might happen to your family|watch your back|you will regret this
we know where your kids go to school|we will flood your phone day and night|你唔还钱就等住瞓街啦|小心你條命
""".replace("\n", "|").split("|")

INSULT = """
傻逼|煞笔|sb|你个SB|傻X|脑残|白痴|弱智|智障|废物|垃圾|人渣|贱人|狗东西|🐶东西|你是🐷吗|🐷脑子|猪脑子
你个🐀辈|鼠辈|王八蛋|混蛋|畜生|杂种|不要脸|臭不要脸|死皮赖脸|没脸没皮|老赖|穷鬼|穷逼|tmd|他妈的|妈的
nmsl|cnm|你妈死了|操你妈|草泥马|尼玛的|卧槽你个|我靠你个废物|狗日的|龟孙|孬种|瘪三|下三滥|丢人现眼的东西
狼心狗肺|厚颜无耻|猪狗不如|丧尽天良|寡廉鲜耻|人模狗样|你算什么东西|你全家都是老赖|你们一家子都是骗子
你爸妈怎么教出你这种人|你这种人活着有什么用|撲街|仆街|死蠢|冚家铲|食屎啦你|顶你个肺|on9|你條柒头
idiot|stupid|loser|scumbag|deadbeat|you are a piece of shit|shameless liar|bitch|垃圾东西|没出息的东西
你就是个骗子|大骗子|无赖|赖皮|你真恶心|恶心的东西|滚|你脑子进水了吧|蠢得像猪|你是不是智障|丢你老母
""".replace("\n", "|").split("|")

FALSE_AUTHORITY = """
我是XX区派出所民警|我们是法院执行局的|这里是经侦大队|我是XX律师事务所的律师|本短信为律师函|你已经被立案了
案件已经移交司法机关|传票已经发出|法院明天派人送传票|我们已经向公安报案|你的案子已经进入司法程序
已进入诉前调解程序，调解不成立即强制执行|执行庭已经受理你的案子|我们是街道办的工作人员，来了解你欠款的事
我是你们镇政府的|社区网格员会上门找你谈还款|我们是银保监会的|我是市金融办的|检察院已经批准对你的调查
法院已经判决，你败诉了|执行法官明天联系你|律师团队已经接手你的案子|我们法务部已向法院提交起诉材料
你的名字已经上报公安系统|已申请网络仲裁并即将强制执行|司法所会给你打电话|this is the police
we are calling from the court|a warrant has been issued for your arrest|our legal department has filed a case against you
this is your final legal notice from our attorney|我系警察|我哋系法院嘅|gongan已经介入|fayuan已经受理
我是民警小王|我们是反诈中心的，你的借款涉嫌违法|你已被列为被告|起诉书已经寄出|开庭传票这周到
""".replace("\n", "|").split("|")

FALSE_CONSEQUENCE = """
外访团队已经出发去你家了|我们的同事已经在去你单位的路上|明天安排人员上门到你父母家核实情况|我们会派专员到你公司走访
上门催收人员下午到|我们会上门核实你的情况|我们会去你单位找你领导|通知你所有通讯录好友|爆txl|爆你通讯录
给你通讯录里每个人发短信|让你邻居都知道你欠钱|在你小区贴告示|发到你公司全员群|通知你们学校|让你们单位所有人知道
你会被抓|警察会来抓你|你要坐牢|你会有案底|这已经是刑事案件|你的子女以后不能考公务员|你孩子上不了好学校
冻结你所有银行卡|你的微信支付宝马上会被冻结|你的工资会被扣押|征信永久黑掉|你一辈子都贷不了款|你家房子会被拍卖
列入失信名单，以后不能坐飞机高铁|你的户口会被注销|你会被拘留十五天|我们会联系你的父母|告诉你老婆你欠钱的事
让你老板知道你是老赖|你的照片会被挂到网上|你的zx会永远花掉|你会被判诈骗罪|你会被限制出境|你的社保会被停掉
your employer will be notified|your colleagues will know about your debt|you will be arrested|you will go to jail
we will contact everyone in your phone book|your family will be informed|your parents will hear about this
你会被上门带走|我们已经在联系你的亲戚|逾期就是犯罪|你这属于恶意逃债要判刑|明天就把你的欠款信息发给你所有同事
会影响你孩子政审|你全村都会知道你欠钱|会在你老家村口贴你照片|你嘅公司同事都会知道|差佬会嚟拉你
我们会给你所有联系人打电话|催收团队明天到你公司前台等你|你的手机通讯录已经导出来了|你的银行账户今晚冻结
""".replace("\n", "|").split("|")

THIRD_PARTY = """
麻烦告诉{who}，他欠了我们{amount}|你的同事{who}在我们平台的借款逾期了|你是{who}的紧急联系人，他的贷款已经逾期三个月了
请你督促{who}尽快还钱|{who}的信用卡欠款一直没还|我们是催收公司，受委托处理{who}的欠款|{who}的dk已经yq了
麻烦转告{who}，他的zx要花了|{who}借了我们的钱不还|请转告{who}账单{amount}今天必须还清|{who}在{lender}的借款逾期了
请让{who}今天把逾期的钱还上|你知道{who}欠钱不还吗|作为{who}的家人，你有义务帮他还款|{who}的网贷已经严重逾期
your colleague {who} has an overdue loan with us|please tell {who} to repay his loan|{who} owes us {amount}
this is a debt collection agency calling about {who}|{who}的欠款已经转到我们催收部门|你老公{who}在外面借了网贷
你儿子{who}的分期还没还|{who}借钱的时候留了你的电话，他现在不还了|请你代{who}还一下欠款
""".replace("\n", "|").split("|")

# --- compliant ----------------------------------------------------------------------------------

REMINDERS = """
您在{lender}的借款本期应还{amount}，还款日为{date}，请按时还款|您的账单将于{date}到期，应还{amount}，可使用自动扣款
您的借款已逾期3天，逾期将按合同收取罚息，并可能影响您的个人征信记录|您的逾期已产生罚息{amount}，按合同约定按日计收
如仍未还款，我司可能依法提起诉讼|我司保留依法追究的权利|逾期记录将报送中国人民银行征信中心，影响您今后的信贷申请
请于{date}前还款，可通过银行转账、手机银行、微信支付或支付宝还款，转账时请备注合同号|若您已还款，请忽略本短信
您本期账单{amount}尚未结清，请尽快处理|您的借款已逾期，逾期天数越长罚息越多，请尽快安排还款
如对账单有异议，可拨打客服热线或通过App提交申诉|我们理解您目前的困难，如收入下降，可申请延期还款或分期
您可以申请减免部分罚息，我们会根据您的情况提供方案|您好，我司将于本周三上午再次与您联系，确认还款安排
逾期还款可能导致您无法继续使用本平台的借款服务|为了维护您的信用记录，请您尽快还清欠款，感谢配合
您好，我是{lender}的客服，请问是{name}本人吗|还款时请务必备注您的借款合同号，以便及时入账
您的银行卡尾号{tail}扣款失败，请确保余额充足|请登录App查看账单明细，如有疑问请联系在线客服
您的借款将于{date}到期，应还{amount}|本期最低还款额{amount}，请在{date}前存入还款账户
如您暂时无法全额还款，可先还部分金额，剩余部分我们可以协商|逾期超过90天的，我司可能依法向法院提起诉讼
我们可以为您申请停息挂账或个性化分期，需要您提供收入证明|您的还款计划已调整，新的每期金额为{amount}
您好，您申请的延期还款已通过，新的还款日为{date}|感谢您的还款，您的借款已结清，结清证明可在App下载
本息合计{amount}，其中罚息{amount}，违约金按合同约定计算|请您合理安排资金，避免产生更多逾期费用
Dear customer, your instalment of {amount} is due on {date}|your loan is overdue, please repay as soon as possible to avoid late fees
late payment may be reported to the credit bureau|you can apply for a repayment plan in the app|您好，您嘅還款日係{date}，請準時還款
我们注意到您最近还款有困难，如需帮助请回电|如再不还款，罚息将继续累积
今天不还的话，明天会产生罚息{amount}|再拖下去逾期记录会上报征信|不处理的话，我司可能依法提起诉讼|三天内不还清将影响您后续借款额度
您已逾期{date}，请尽快联系我们协商还款方案|您的欠款{amount}已逾期，如有困难可以申请分期|请勿失联，及时沟通才能帮您解决问题|如您已失业或生病，可以提交材料申请困难减免|期待您的回复，祝您生活愉快
""".replace("\n", "|").split("|")

NEGATED = """
我们绝不会上门打扰您|我们不会联系您的家人或同事|我司不会使用您的通讯录|逾期不是犯罪，您不会坐牢|请放心，我们不会冻结您的银行卡
我们不会向您的单位透露任何信息|我们不会上门，也不会联系您的亲友|逾期属于民事纠纷，不涉及刑事责任，不会被抓
我司从不爆通讯录，请您放心|我们不会给您的紧急联系人透露欠款信息|我司承诺不会上门催收|不存在所谓的立案或传票，请勿轻信
您不会因为逾期被拘留|我们不会威胁您，也请您理解我们的工作|我们没有、也不会通知您的工作单位|逾期不会影响子女上学
我们并非执法机关，无权冻结或查封任何财产|催收人员不会自称警察或律师|我们没有起诉您，目前只是提醒还款
您的信息不会被曝光|我们不会群发您的信息给任何人|请放心，征信记录不会是永久的，结清后按规定期限更新
我们绝对不会骚扰您的家人|也不会去您公司|we will never visit your home|we will never contact your family or colleagues
overdue is not a crime and you will not go to jail|we do not use your contact list|nobody will be arrested for a late payment
we are not the police and we do not threaten anyone|我哋唔會上門，亦唔會聯絡你屋企人|逾期唔係犯法，唔會坐監
不会坐牢，也不会被抓，请您不要有心理负担|我们不会限制您的出行|不会有人上门，您可以通过App自助还款
""".replace("\n", "|").split("|")

FACTUAL = """
本合同履行中发生争议的，双方协商解决；协商不成的，任何一方可向合同签订地人民法院提起诉讼
因本合同引起的纠纷，由贷款人所在地有管辖权的人民法院管辖|限制高消费需由法院依法作出裁定，我司无权限制您的消费
只有经法院判决并进入执行程序，才可能被纳入失信被执行人名单|限高是法院的强制执行措施，催收机构无权实施
根据《民法典》，逾期属于民事违约，我司可依法通过诉讼主张权利|是否立案由法院依法审查决定，我司目前未提起诉讼
温馨提示：谨防冒充公安、法院、律师的诈骗电话|如有人自称公安或法院工作人员要求您转账，请立即挂断并报警
我司不会发送律师函要求您转账到个人账户，如收到请联系客服核实|凡是要求您把钱转到“安全账户”的都是诈骗，公安机关不会这样做
冒充律师事务所发送催款短信属于诈骗，请勿点击陌生链接|beware of scammers posing as police or court staff
我们从不以法院名义发送短信，请认准官方客服号码|近期有不法分子冒充检察院、公安局实施诈骗，请提高警惕
对于我司同事此前电话中的不当言论，我们深表歉意，已严肃处理|我们对催收员之前说要上门的言论向您道歉，这不是我司的做法
对之前同事说的后果自负等威胁性话语，我们郑重道歉|关于您投诉的催收人员辱骂问题，我们已核实并致歉
根据规定，催收不得联系与债务无关的第三人|按照监管要求，我们不会在晚上9点后联系您
如您认为遭到暴力催收，可向银保监会或当地金融监管局投诉|您也可以拨打12378银行保险消费者投诉热线
民事诉讼需经法院受理、开庭、判决，目前您的借款尚未进入任何诉讼程序|诉讼是最后的手段，我们更希望与您协商
经查，您本期账单尚未结清|经核实，您的还款已到账|we have not filed any case; this is only a reminder
""".replace("\n", "|").split("|")

CALLBACK = """
您好，麻烦转告{who}方便时回电{phone}，谢谢|请问您是否知道{who}的新联系方式？如方便请让他回电
您好，我们是{lender}，有事找{who}，请他方便时回个电话|打扰了，请帮忙转告{who}给我们回个电话，谢谢您
您好，请问{who}在吗？如不在，麻烦请他回电|抱歉打扰，如您不认识{who}，请忽略本消息
hello, could you ask {who} to call us back on {phone}? thank you|您好，{who}留了这个号码，麻烦您请他联系我们客服
您好，请问这个号码还是{who}在用吗？我们是{lender}客服|麻烦您提醒{who}查看短信，有重要事项请他回电
""".replace("\n", "|").split("|")

# Conditionals keep a threat a threat ("不还就上门").
CONDITIONAL_CONSEQUENCE = [
    "不还就上门",
    "不还钱我们就派人去你家",
    "不还就给你通讯录发短信",
    "不接电话就去你单位",
    "不还我们就通知你父母",
    "不还就让你坐牢",
    "不还就报警抓你",
    "不配合就找你家里人",
]


def convert(config: str):
    return opencc.OpenCC(config).convert


def styles(rng: random.Random, text: str, converters: dict[str, object]) -> list[str]:
    out = [text]
    roll = rng.random()
    if roll < 0.2:
        out.append(converters[rng.choice(["s2t", "s2hk", "s2tw"])](text))  # type: ignore[operator]
    elif roll < 0.27:
        out.append("".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text))
    elif roll < 0.32:
        out.append(" ".join(text))
    return out


def fill(rng: random.Random, template: str) -> str:
    return template.format(
        name=rng.choice(NAMES),
        who=rng.choice(THIRD_NAMES + ["张先生", "他", "您的朋友"]),
        lender=rng.choice(LENDERS),
        amount=amount(rng),
        date=date(rng),
        tail=rng.randint(1000, 9999),
        phone=rng.choice(["400-000-0000", "95xxx", "021-12345678"]),
    )


def framed_violation(rng: random.Random, body: str) -> str:
    greeting = fill(rng, rng.choice(GREETINGS))
    if rng.random() < 0.5:
        body = f"{rng.choice(CONDITIONS)}，{body}"
    if rng.random() < 0.3:  # the violation at the end of an otherwise polite reminder
        body = f"{fill(rng, rng.choice(REMINDERS))}。{body}"
    return greeting + body + rng.choice(CLOSINGS)


def rows(seed: int = SEED) -> list[dict[str, object]]:
    rng = random.Random(seed)
    converters = {name: convert(name) for name in ("s2t", "s2hk", "s2tw")}
    out: list[dict[str, object]] = []

    def add(text: str, codes: list[str], third: bool = False) -> None:
        for styled in styles(rng, text, converters):
            out.append({"text": styled, "codes": codes, "to_third_party": third})

    banks = {"THREAT": THREAT, "INSULT": INSULT, "FALSE_AUTHORITY": FALSE_AUTHORITY}
    banks["FALSE_CONSEQUENCE"] = FALSE_CONSEQUENCE
    for code, bank in banks.items():
        phrases = [p.strip() for p in bank if p.strip()]
        for phrase in phrases:
            for _ in range(6):
                add(framed_violation(rng, phrase), [code])
    # two codes at once
    for _ in range(400):
        first, second = rng.sample(list(banks), 2)
        a = rng.choice([p for p in banks[first] if p.strip()]).strip()
        b = rng.choice([p for p in banks[second] if p.strip()]).strip()
        add(fill(rng, rng.choice(GREETINGS)) + f"{a}，{b}" + rng.choice(CLOSINGS), sorted([first, second]))
    for phrase in CONDITIONAL_CONSEQUENCE:
        for _ in range(5):
            add(framed_violation(rng, phrase), ["FALSE_CONSEQUENCE"])
    third = [p.strip() for p in THIRD_PARTY if p.strip()]
    for template in third:
        for _ in range(10):
            add(fill(rng, rng.choice(["", "您好，", "你好，", "打扰了，"])) + fill(rng, template), ["THIRD_PARTY_DISCLOSURE"], True)
    for template in [p.strip() for p in CALLBACK if p.strip()]:
        for _ in range(12):
            add(fill(rng, template), [], True)
    for bank, repeats in ((REMINDERS, 8), (NEGATED, 10), (FACTUAL, 8)):
        phrases = [p.strip() for p in bank if p.strip()]
        for phrase in phrases:
            for _ in range(repeats):
                text = fill(rng, rng.choice(GREETINGS)) + fill(rng, phrase)
                if rng.random() < 0.5:
                    text += "。" + fill(rng, rng.choice(REMINDERS))
                add(text + rng.choice(["", "。", "，谢谢。", "，祝您生活愉快！", "。如有疑问请联系客服。"]), [])
    rng.shuffle(out)
    unique: dict[str, dict[str, object]] = {}
    for row in out:
        unique.setdefault(str(row["text"]), row)
    return list(unique.values())


def main() -> None:
    data = rows()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as handle:
        for row in data:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(data)} rows → {OUT}")


if __name__ == "__main__":
    main()
