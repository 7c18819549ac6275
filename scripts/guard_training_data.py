# ruff: noqa: E501  (phrase banks: one line of the bank per line of text)
"""Write the guard model's training set: src/lenddesk/collections/data/guard_train.jsonl.

Deterministic (fixed seed): hand-written phrase banks per code, combined with frames (greetings,
conditions, closings) in many styles — formal SMS, colloquial chat, pinyin and initials, emoji,
Traditional and Hong Kong characters, Cantonese, full-width, English — and hard negatives (negated
and factual statements, anti-scam notices, dispute clauses, lawful consequences, hardship offers,
call-back-only messages to third parties). Rows: {"text", "codes", "to_third_party"}. The rows of
data/guard_handwritten.jsonl (whole messages written one by one by another hand) are appended as
they are; a generated row with the same text is dropped.

    PYTHONPATH=src python scripts/guard_training_data.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import opencc

DATA = Path(__file__).resolve().parent.parent / "src/lenddesk/collections/data"
OUT = DATA / "guard_train.jsonl"
# Written out one by one by a second hand, who had not read the banks below (docs/DATA.md).
HANDWRITTEN = DATA / "guard_handwritten.jsonl"
SEED = 20261207

NAMES = ["张先生", "李女士", "王先生", "刘女士", "陈先生", "赵女士", "周先生", "吴女士", "孙先生", "马女士"]
THIRD_NAMES = ["张伟", "李娜", "王磊", "刘洋", "陈静", "赵强", "周敏", "吴刚"]
LENDERS = ["某某金融", "小赢钱包", "融易借", "速借平台", "我司", "本平台"]
GREETINGS = [
    "",
    "您好，",
    "你好，",
    "尊敬的客户，",
    "【{lender}】",
    "{name}您好，",
    "{name}，",
    "喂，",
    "亲，",
]
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
CLOSINGS = [
    "",
    "。",
    "！",
    "，你自己看着办。",
    "，好自为之。",
    "，别说没提醒你。",
    "。速回电。",
    "!!!",
    "，听清楚了没",
]


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
    return rng.choice(
        [
            f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
            f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "本月底",
            "明天",
            "周五",
        ]
    )


# --- violations ---------------------------------------------------------------------------------

THREAT = """
你住的那栋楼门禁可不怎么样|我们知道你爸妈每天早上去哪个公园|你家孩子的班主任姓什么我们都知道|你老婆上班的地方我们也清楚
你不接电话，我们就只能去你家里当面聊了|什么时候想通了什么时候还，不过到时候可能就晚了|别让你家里人为你的事受牵连
你以为关机就安全了？|有本事你一辈子别回家|今晚开始，你每分钟都会接到电话|给你三个小时，过时不候，后果你懂
你不还，我们有一百种办法让你还|劝你识相点|你最好别让我们失去耐心|这是最后的警告|再不还别怪我们手段多
你在外地也没用，我们全国都有人|你现在在哪我们定位得到|你每天坐几路公交我们都知道|我们会一直跟着你
你女朋友的电话我们也有，你懂的|你也不想你家人睡不好觉吧|我会让你知道欠钱不还是什么下场|你等着瞧好了
给你脸不要脸，那就别怪我们了|准备好迎接我们吧|记住，我们随时可以找到你|🔪🔪🔪|你的命值几个钱|💀|⚰️准备好
i will make sure you pay one way or another|don't make us come to you|you have been warned|we are watching you
你在杭州哪个区住我们都查到了|你公司楼下的咖啡店不错，我们常去|你每天几点下班我们都记着呢|你老家那个村子不大，好找
你家是三楼吧，窗户挺大的|你媳妇每天送孩子上学那条路我们熟|别以为换了城市就安全了|你能躲一时，躲不了一世
到时候会发生什么，谁也说不准|哪天出点什么意外可别怪别人|我们的人已经在你家门口蹲着了|你孩子放学的时候注意点
今天开始你的电话会一直响|每个小时给你打一百个电话|我们会让你的手机没法用|你跑到天边我们也会找过去
这个世界很小，我们总会见面的|你最好每天出门都看看后面|你要是再不接，我们就换种方式跟你沟通|别让事情发展到不可收拾
你家人出了什么事我们可不负责|你想让你妈担惊受怕吗|你女儿长得挺可爱的，要看好哦|你的车停在B2层对吧
路上注意安全，最近不太平|你知道上一个不还钱的人后来怎么样了吗|劝你别拿你的家人冒险|我们有人在你们那边
今晚给你送点东西过去|你要是不想你家里出事就赶紧还|下次见面可就没这么客气了|我们兄弟几个想找你喝喝茶
你会为你的选择后悔一辈子|不还的话后果很严重，你懂的|别怪我没提醒你，出了事自己扛|你跑得了初一跑不了十五
hou果zi负|后果自fu|后guo自负|hgzf你懂|小心点🔪|🔪已经准备好了|晚上出门带好💣|给你寄个⚰️|等着收🔪吧
wait and see what happens to you|we have people in your city|your family is not safe|we are coming for you
you better sleep with one eye open|nowhere to hide|we will make your life hell|bad things happen to people who don't pay
你唔還錢，我哋識得點搵你|你屋企喺邊我哋一清二楚|小心啲你啲仔女|你走得去邊呀|今晚去你屋企坐下
打爆你电话|打到你关机为止|24小时连环call|我们会不停地给你打电话发短信直到你还钱|让你的手机响到爆
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
您好，本期账单已逾期，请尽快还款。PS：欠钱不还的都是垃圾|提醒您还款，别让人看不起|请尽快处理，做个人吧
你这种人怎么好意思活着|你真给你爹妈丢人|你全家都是废物|你们家祖坟冒黑烟了吧|生你出来有什么用
借钱的时候点头哈腰，还钱的时候装死，你算什么东西|你就是个赖账的无赖|你这种人渣早晚遭报应
蠢货|笨蛋|傻缺|二百五|憨憨|废物点心|垃圾玩意儿|什么玩意儿|狗屁不是|你个瘪犊子|你个龟孙子|臭不要脸的
你是不是脑子有坑|你是猪吗听不懂人话|你个没文化的东西|没素质|没教养的东西|不要脸的老赖
sb玩意|SB|傻13|傻🅱️|沙比|啥比|煞比|纱布|shabi|sha bi|s13|2b青年|二逼|逗比|你妈b|妈卖批|mmp|nmd
你个扑街仔|收皮啦你|粉肠|你条粉肠|废青|on9仔|係咪on9|死扑街|你条友真係冇廉耻
what a loser you are|you lowlife|you are pathetic|useless trash|you're a joke|go to hell you cheat
您好，本期应还{amount}，请按时还款，别当老赖|提醒您今天还款，不要做个没信用的废物|请尽快还款，做人别那么不要脸
你这种人就是社会的垃圾|你全家都是骗子|你们一家人都不是东西|有其父必有其子，全家都是赖子|你爹妈没教你做人吗
真是个十足的败类|你这种货色|你就是一条丧家之犬|你活得像条狗|你连狗都不如|你这个寄生虫|吸血鬼一样的东西
傻bi|sha逼|傻b|沙雕玩意|你个憨批|瓜娃子|龟儿子|你个锤子|狗比|狗逼|cao你妈|艹你|草你大爷|你大爷的|日了狗了
你这个🐷|你是🐶吧|🐶都比你讲信用|🐷一样的脑子|你个🐀|鼠头鼠脑的🐀|🐢儿子|你个🤡
你係咪傻㗎|你個死仔包|正一廢柴|頂你個肺|屌你|你老母|痴線|扑你个街|死八婆|你個衰神
you idiot|you stupid loser|what a deadbeat|you worthless piece of trash|shameless scumbag|you dumb bitch|fucking liar
脑子有病|有病吧你|神经病|你是不是有毛病|没见过你这么无耻的|丢人现眼|你还要不要点脸|你就是个臭要饭的
好借好还再借不难，你这种失信的废物|狗改不了吃屎|朽木不可雕也|烂泥扶不上墙|死猪不怕开水烫|癞皮狗
tmd还钱|nmb的|md你还不还|sb东西|你个zz|rnm退钱|mlgb的
傻逼|煞笔|sb|你个SB|傻X|脑残|白痴|弱智|智障|废物|垃圾|人渣|贱人|狗东西|🐶东西|你是🐷吗|🐷脑子|猪脑子
你个🐀辈|鼠辈|王八蛋|混蛋|畜生|杂种|不要脸|臭不要脸|死皮赖脸|没脸没皮|老赖|穷鬼|穷逼|tmd|他妈的|妈的
nmsl|cnm|你妈死了|操你妈|草泥马|尼玛的|卧槽你个|我靠你个废物|狗日的|龟孙|孬种|瘪三|下三滥|丢人现眼的东西
狼心狗肺|厚颜无耻|猪狗不如|丧尽天良|寡廉鲜耻|人模狗样|你算什么东西|你全家都是老赖|你们一家子都是骗子
你爸妈怎么教出你这种人|你这种人活着有什么用|撲街|仆街|死蠢|冚家铲|食屎啦你|顶你个肺|on9|你條柒头
idiot|stupid|loser|scumbag|deadbeat|you are a piece of shit|shameless liar|bitch|垃圾东西|没出息的东西
你就是个骗子|大骗子|无赖|赖皮|你真恶心|恶心的东西|滚|你脑子进水了吧|蠢得像猪|你是不是智障|丢你老母
""".replace("\n", "|").split("|")

FALSE_AUTHORITY = """
这里是互联网法院，你的案件已受理|我是仲裁委的工作人员|网上法庭已经立案|你已被列为失信被执行人，法院通知如下
我们是经侦支队的，借款不还涉嫌诈骗|区政府金融办要求你限期还款|社区民警会联系你|我们是人民调解委员会的，已受理本案
我们法务已向法院递交立案材料，案号稍后发你|本通知由XX律师事务所代发，请于三日内履行|这是一封正式的律师函
the judge has signed the order|the sheriff will visit you|your case number is 2026-123|the prosecutor has your file
我是朝阳分局的警官，请配合调查你的借款|我们是区人民法院的，通知你明天来领判决书|执行局的同事下午去你家
本案已由xx律师事务所正式代理，请在24小时内联系承办律师|最高法已将你列入失信被执行人|你的诉讼编号已生成
我们已经申请财产保全|法院已经下达支付令|仲裁委员会已受理并将于三日内裁决|法务部已将你的案件提交检察机关
我们是派出所的，来核实一下你的欠款情况|这里是街道司法所，平台委托我们调解你的欠款|我们是社区的，平台让我们上门看看
我是镇上的网格员，听说你欠了网贷|村委会已经收到你欠款的通知|你们当地派出所会联系你
您的案件已进入立案审查阶段，请勿失联|根据最新司法解释，你已构成恶意拖欠，将被移送|公安机关已冻结你的账户
this is officer Li from the police|the court has issued a summons for you|we have reported you to the police
you have been sued, the hearing is next week|our lawyers have started legal proceedings|I am calling on behalf of the court
我系警察，你要跟我返差馆|法庭已經發出傳票|律師行已經接手你單案|jing察已经在处理|我们已经把材料交给fa院
本短信由法院授权发送|你已被列入法院执行名单|调解中心通知：调解失败将直接判决|金融纠纷调解委员会已对你立案
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
我们会把你的欠款情况反馈给你们单位的人力资源部|你的个人信息会出现在我们的失信公告上|我们会联系你户籍所在地的村委会
你将被列入全国逃债人员名单|你的孩子会被学校劝退|你的驾照会被吊销|你的手机号会被注销|你的护照会被冻结
你老婆的工资卡也会被冻结|你父母的养老金会被扣|明天就给你们全村发短信|你的头像和身份证会被发到网上
我们会拿着你的照片去你小区问邻居|上门团队正在集结|同事已经到你公司楼下了|今天下午会有人去你家敲门
你这属于骗贷，立案标准是三千元|超过三个月就是刑事责任|逾期就是违法|你这种行为可以判三年
we will tell your wife|we will call your mother|the whole village will know|your kids' school will be told
我们下午派人去你公司核实你的在职情况|外访同事已经在去你父母家的路上|明天一早上门拜访你家人|我们的团队正赶往你的单位
核查人员会到你居住地走访邻居|我们会去你孩子学校了解情况|上门人员已安排，请保持电话畅通|我们会上你家门口等你
你的欠款信息会发给你全体同事|我们会在你们小区业主群发通告|你单位领导马上会收到律师函|你的邻居很快就知道你欠钱不还
会通知你所在公司的人事部门|我们会联系你的学校和老师|你所有的微信好友都会收到消息|我们会做成海报贴在你们单位
你的通讯录我们已经拿到了，每个人都会接到电话|已经开始给你的紧急联系人和亲友群发短信|爆你txl|通xun录|tong讯录
你这是非法占有，要负刑事责任|你涉嫌信用卡诈骗，会被刑拘|逾期超过三个月就会被抓|你会被列为网上逃犯|你会留下犯罪记录
你孩子以后当不了兵考不了公|你的名下财产会被全部查封|你以后坐不了火车|你的工资卡马上会被划扣|你名下的车会被拖走
你这辈子别想再贷到一分钱|你的征信会黑一辈子|你全家的征信都会受影响|你配偶也要承担连带责任|你父母要替你还钱
you will be put in prison|the police will come to arrest you|your boss will receive a letter about your debt
we will tell all your colleagues|we will visit your workplace tomorrow|everyone in your contacts will get a message
we will post your photo online|your bank accounts will be frozen today|your children will be affected
我哋會通知你公司同事|你啲朋友全部都會知|差人會上嚟拉你|你會坐監㗎|我哋會上你屋企
你的dk逾期会影响你老婆的工作|不还就去你单位闹|不还就在你们村里广播|不还就打电话给你每一个亲戚
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
您好，{who}在我们平台借款{amount}已经逾期，麻烦您转达|请问是{who}的母亲吗？您儿子欠我们的钱一直没还
你好，你是{who}的领导吧？他在我们这有笔贷款没还|我们是{lender}的，{who}的欠款已经委托我们处理
麻烦你提醒一下{who}，他的账单已经逾期很久了|{who}的借款合同上留的紧急联系人是你，他现在失联了，欠款也没还
您好，我们是第三方催收机构，找{who}谈他欠款的事|{who}的征信已经出问题了，麻烦你跟他说一下
你好，{who}的信用贷逾期了，你能联系上他吗|请转告{who}，再不还款我们就要走法律程序了|{who}欠的钱你们家打算什么时候还
hello, {who} owes money to our company, please tell him to pay|we are collecting a debt from {who}, are you his friend?
your brother {who} has not paid his loan|{who} is in arrears with us|please remind {who} about his overdue payment
你好，{who}嘅貸款逾期咗，麻煩你話俾佢知|{who}喺我哋度借咗錢未還|{who}的yu期已经很久了|{who}的zheng信要花了
麻烦告诉{who}他的jie款该还了|{who}的huan款日过了|{who}的dai款已经逾期|{who}在网dai平台欠了钱
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
这是最后一次免息还款机会，今天还清可减免全部罚息|这是本月最后一次提醒，如已还款请忽略|最后还款日为{date}，请别错过
本次减免活动是最后一期，名额有限，欢迎咨询|这是我们能给出的最优方案，您考虑一下|提醒您这是本期最后一个还款日
我们已经收到您的还款{amount}，感谢支持|已经为您办理了延期，新的还款日为{date}|我们已经暂停对您的电话提醒，之后以短信通知
已经通知客服专员给您回电|您的减免申请已经通过，请在{date}前还款{amount}|系统已经发送还款链接到您的手机，请查收
你好，你这个月的账单还没还哦，记得还一下|你的分期今天到期了，记得往卡里存钱|你好呀，提醒你一下明天要还{amount}
你那边方便的话今天处理一下，有困难跟我说|你放心，我们会帮你想办法的|你好，看到你还款了，谢谢你
祝您和家人生活愉快|您可以和家人商量一下还款计划，需要的话我们可以详细讲解|您的家庭情况我们已经了解，会为您申请困难减免
您的单位地址是否有变化？如有变化请更新，方便寄送结清证明|您的工作单位信息已更新成功|如果您换了工作，可以在App里修改单位信息
您好，您的借款今天到期，应还{amount}，如已还款请忽略|您好，您已逾期{date}，为避免影响您的信用，请尽快还款
您好，我是贷后专员小李，您的账户有一笔{amount}的欠款需要处理，方便的话请回电|您的分期第2期已逾期，逾期费用{amount}
您好，如果您最近手头紧，可以先还一部分，剩余的我们可以帮您申请延期|请问您预计什么时候可以还款？我们可以帮您登记
您好，逾期会影响您的征信，但我们可以帮您制定合适的还款计划|我们每天会提醒您一次，如已还款请回复1
您的家人或朋友如果接到我们的电话，我们只会请您回电，不会透露任何信息|您好，您的紧急联系人信息是否需要更新？
您好，您的借款当前逾期5天，逾期利息按合同年化利率的1.5倍计收，今日应还{amount}|本月账单{amount}，最后还款日{date}
温馨提醒：本期还款日为{date}，为避免产生罚息，请提前存入足额资金|您的贷款今日到期，系统将于18:00自动扣款
您好，根据您的借款合同，逾期后每日加收万分之五的罚息，目前累计{amount}|提醒：逾期信息将依法报送金融信用信息基础数据库
您好，我们可以为您提供最长12期的分期方案，每月还款约{amount}|根据您的困难情况，我们可以申请减免罚息{amount}
如您近期资金紧张，可申请延期7天还款，延期期间不影响征信|您好，如需开具结清证明，可在App“我的-结清证明”下载
请核对您的还款金额，如有疑问可拨打官方客服电话|我们已收到您的还款{amount}，剩余待还{amount}
您好，本次来电是提醒您的账单情况，如已处理请忽略|请您在方便时回电，我们一起商量还款方案
您的账户已逾期，如继续逾期，平台有权依据合同要求您提前偿还全部借款|逾期可能导致您的借款额度被冻结，还清后可恢复
很抱歉打扰您，这是一条还款提醒|您好，了解到您最近失业，我们可以为您暂停催收30天|感谢您的沟通，我们已为您登记还款承诺{date}
您好，逾期超过90天的账户，我司可能委托合规的第三方机构进行提醒|根据合同约定，我司可能依法采取诉讼等方式维护权益
您好，您的借款已逾期，逾期记录会上报征信，但结清后可按规定更新|本通知为提醒性质，不代表任何法律程序已启动
Hi, a friendly reminder that {amount} is due on {date}|Your account is 10 days past due. Please contact us to arrange a payment plan
We understand times are hard. Reply HELP to discuss a hardship arrangement|Penalty interest of {amount} has been added under your contract
您好，您嘅貸款已逾期三日，請盡快還款|溫馨提示：還款日為{date}，應還{amount}|如有困難，歡迎聯絡我哋傾還款安排
您的借款将于{date}到期，如需调整还款日可在App中申请|如您已通过其他渠道还款，可能存在1-2个工作日的入账延迟
您好，我是您的专属客服，工作时间9:00-18:00，有问题随时找我|您好，请您登录App确认本期还款，感谢您的信任
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
我们不会去您单位，也不会联系您领导|您的通讯录我们从不查看|我们保证不会打扰您的家人|请您放心，没有人会上门
逾期不涉及刑事，您不会有案底|催收不会影响您孩子入学|我们不是公安，也不会冒充公安|没有人会起诉您，我们只想协商
您的欠款信息我们绝对保密，不会告诉任何人|不会冻结，不会查封，也不会影响您的工作|我们从未通知过您的单位
我们不会上门，也不会打扰您的家人和同事|本公司从不使用通讯录联系您的朋友|请放心，您的欠款信息不会告知任何第三方
逾期是民事违约，不是违法犯罪，您不会因此坐牢|我们无权冻结您的银行卡，也不会这样做|您的孩子上学不会受到任何影响
我们不会到您单位去，请您主动联系我们协商|催收员说的上门、爆通讯录都不是我司的做法|我们没有、也不会报警
我们并没有起诉您，也没有立案，请放心|您不会被列入黑名单，只是征信有逾期记录|我们不会联系您的父母
您不会被限制坐高铁或飞机，那需要法院裁定|我们不会群发任何信息给您的联系人|绝不会曝光您的个人信息
我司不会委托任何人上门催收|您不用担心被抓，逾期不涉及刑事|我们从来没有联系过您的单位|不会影响您家人的征信
we won't contact anyone in your phone book|you will not be arrested and nobody will come to your home|we do not contact employers
we never share your debt with your family|this is not a legal notice and no case has been filed|we are not a law firm
我哋唔會打俾你屋企人|逾期唔會坐監，請放心|我哋唔會上你公司|你唔會被拉
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
如果案件进入诉讼，法院会依法送达文书，请以法院通知为准|法律规定只有法院才能采取查封、冻结等措施
如遇诈骗，请及时向公安机关报案|您可以咨询专业律师了解自己的权利|政府出台了纾困政策，您可申请延期还款
请注意：催收人员不会以公安、法院名义联系您|诉讼费用将由败诉方承担，建议您尽早协商|起诉前我们会书面通知您，目前尚未起诉
如您长期不还款，可能会被起诉，请重视|如果您对债务有异议，可以向人民法院提起诉讼主张权利
我们已收到您的投诉，涉事催收员已被停职调查，对您造成的困扰深表歉意|关于您反映的被威胁一事，我们正在核实，并向您道歉
根据《互联网金融逾期债务催收自律公约》，催收不得冒充公检法|借款合同第十二条：因本合同产生的争议，提交甲方住所地人民法院诉讼解决
双方同意，争议由合同签订地法院管辖|如发生纠纷，双方可向北京仲裁委员会申请仲裁|失信被执行人名单由法院依法认定，与逾期本身无关
限制高消费是法院在执行阶段依法采取的措施，需要有生效判决|是否起诉由公司法务依法评估，目前您的账户仅为逾期提醒阶段
警惕！近期有人冒充法院发送“传票”短信，要求转账到指定账户|冒充公安、检察院的电话要求您转账的，一律是诈骗
我司工作人员不会以律师函名义要求您向个人账户还款|如收到自称律师事务所的催款电话，请通过官方客服核实
请认准官方还款渠道，谨防不法分子冒充客服、警察诈骗|任何自称“征信修复”“注销账户”的都是骗局，请勿相信
对于此前催收员在电话中提到“上门”“通知家人”等不当言论，我司深表歉意，已对其进行处理
我们对同事之前说您会坐牢的错误说法致歉，逾期不会导致刑事责任|关于您反映的催收员辱骂问题，我们真诚道歉并已处理
按照监管规定，催收人员不得向第三方透露您的债务信息|依据规定，我们仅在8:00至21:00之间与您联系
如您对催收方式有异议，可以向当地银保监局或12378热线投诉|如您认为催收人员违规，可拨打投诉电话，我们会严肃处理
please beware of fraudsters pretending to be police or court officers|any message claiming to be from a court asking for transfer is a scam
we apologise for our agent's threatening remarks; this is not our policy|disputes under this agreement are subject to the jurisdiction of the court where the lender is located
警方提示：凡是要求转账到安全账户的都是诈骗|反诈中心提醒：不要相信自称法院工作人员要求转账的电话
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
您好，打扰了，请问您认识{who}吗？麻烦请他回个电话|您好，请帮我们转告{who}尽快联系我们，谢谢
您好，我们联系不上{who}，如果您方便，请让他拨打{phone}|不好意思打扰，这个号码是{who}留的联系方式，请他回电
hi, sorry to bother you, please ask {who} to give us a call at {phone}|could you pass a message to {who} to contact us?
您好，{who}留的号码好像停机了，请问您有他的新号码吗|您好，麻烦您跟{who}说一声，让他联系一下{lender}客服
你好，唔好意思打擾，麻煩叫{who}覆個電話|您好，请问{who}还在这个单位工作吗？如方便请他回电
您好，麻烦转告{who}方便时回电{phone}，谢谢|请问您是否知道{who}的新联系方式？如方便请让他回电
您好，我们是{lender}，有事找{who}，请他方便时回个电话|打扰了，请帮忙转告{who}给我们回个电话，谢谢您
您好，请问{who}在吗？如不在，麻烦请他回电|抱歉打扰，如您不认识{who}，请忽略本消息
hello, could you ask {who} to call us back on {phone}? thank you|您好，{who}留了这个号码，麻烦您请他联系我们客服
您好，请问这个号码还是{who}在用吗？我们是{lender}客服|麻烦您提醒{who}查看短信，有重要事项请他回电
""".replace("\n", "|").split("|")

# --- round two (issue 19): more of the world's wording, each bank joined to the one above -------------

THREAT_MORE = """
你上班那条路晚上挺黑的|我们的人对你们那片熟得很|你家阳台晾的衣服我们都看见了|你老家的地址我们已经发到群里了
你以为搬家就没人认识你了？|你爸的电话打不通，我们只好亲自去看看他了|别让你孩子在学校里难做人
你今天不接电话，明天我们换个地方见你|你要是一直这样，后面会发生什么我可说不好|小心你的车胎|你的店门口最近不太平吧
我们会一直打到你接为止，一天几百个|从现在开始你的手机别想消停|手机会被打到关机，微信也会被加满
你躲回老家也没用，村口我们都认得|你全家的生活我们都清楚，你看着办|你逃到国外都没用|地球就这么大，你能去哪
我们已经派人守在你单位门口了|晚上回家的时候多看看身后|你孩子的照片我们手里有|老人家身体不好吧，别让他受刺激
你今晚睡得着吗|我劝你见好就收，不然有你后悔的|不还钱的人后来都很惨|你这样下去迟早要出事
🔪🔪不长眼|给你家门口放个🔪|今晚送🔪上门|💣已就位|你家🔥了别怪我们|送你一副⚰|🩸债血偿
hou果自己负责|后果zi负|hgzf别怪我|后果你懂的hh|你等着瞧吧ww|你会知道厉害的
it would be a shame if something happened to your car|we know your daily route|think about your family's safety
your phone will ring every minute until you pay|we have your address and we will come|you cannot escape us
你仲唔還，我哋知你喺邊度返工|小心你屋企人|今晚等住我哋|你走得甩咩
""".replace("\n", "|").split("|")

INSULT_MORE = """
你个赖账精|欠债不还的烂人|你这种人不配活在世上|你就是个白眼狼|你真是厚脸皮到家了|你这张老脸还要不要
废物东西还不还钱|跟你说话都嫌脏|你就是个骗钱的小人|猪都比你聪明|你脑子被驴踢了吧|没见过这么贱的
您好，本期账单已到期，请尽快处理，不要像个乞丐一样赖着|提醒还款：账单{amount}，请在{date}前还清，别丢人现眼
你们家的人是不是都这么没出息|你爹妈白养你了|你全家都是失信的货|你儿子以后也是个赖子
傻屌|屌丝|low逼|2B|sb一个|你个zhizhang|shab|sha13|tmd你|md的赖子|nmd还钱|rnmtq
你个🐶还钱|🐷头|欠钱的🐀|🐍一样的人|💩一样的人品|你就是个🤡
you worthless bum|what a disgusting cheat|you lazy parasite|shame on you, freeloader|you're garbage
你個衰鬼|死廢柴|你個仆街仔|正一無賴|冇家教|屎忽鬼|你條粉腸|死八公
""".replace("\n", "|").split("|")

FALSE_AUTHORITY_MORE = """
我是你们辖区的民警，平台报了案|这里是市中级人民法院执行局|我是XX律师事务所的承办律师，你的案子在我手上
你的欠款纠纷已经进入诉讼流程|法院的传票这两天就会寄到你家|我们是区政府信访办的|我是你们村的村支书，平台找到我了
我们是金融监管局的，核查你的逾期问题|仲裁庭已经组庭，你缺席也会裁决|已经向你户籍地派出所报备|检察院会跟进你的案件
本案已由法务部门提交法院，案号已生成|我们的律师明天会去你单位送达文书|你已被列入司法黑名单|法院的执行人员已出发
hello, this is the police department, you have an outstanding case|the court has scheduled your hearing|I am an officer handling your file
our lawyers will serve you papers tomorrow|a legal case has been opened against you|this is the sheriff's office
我係差館打嚟嘅|法院已經受理咗你單案|我哋律師樓會寄律師信俾你|gong安局已经备案|fa院传票已发|lv师已介入
""".replace("\n", "|").split("|")

FALSE_CONSEQUENCE_MORE = """
同事今天下午去你公司找你们主管聊聊|我们会带着材料去你家核实|走访人员会去你父母住的地方|明天安排人到你单位了解你的情况
上门团队已经到你们小区了|我们的外访员已经出发，预计一小时到|我们会去你孩子的学校找老师了解|我们会在你们单位门口拉横幅
你的欠款会通报到你们公司所有部门|你们楼栋的邻居都会收到通知|你老家的亲戚都会接到电话|你所有微信好友都会看到你的欠款
你的通讯录明天开始逐个打|txl已经导出，今晚群发|tongxunlu里的人都会知道|你的联系人一个都跑不掉
逾期超过三十天就构成诈骗|不还就是非法占有，会被判刑|你会被关进去|明天派出所会来带你走|你要被拘留的
你名下的房子车子都会被查封|你的工资会被冻结|你的微信钱包会被封|你家人的银行卡也会受影响|你老婆也要替你还
你的孩子以后考公政审过不了|你这辈子都坐不了飞机|你的身份证会被注销|你会被全国通报
we will visit your office tomorrow|our field team is on the way to your home|your whole company will be informed
everyone in your contact list will receive a message|your neighbours will be told|you will be jailed for fraud
你嘅同事全部都會知|我哋會上你公司搵你老細|你嘅通訊錄我哋已經有晒|你會俾人拉去坐監
""".replace("\n", "|").split("|")

THIRD_PARTY_MORE = """
你好，{who}在我们这里有笔钱到期没还|麻烦您跟{who}讲，他欠的{amount}今天必须处理|我们是{lender}的贷后部门，找{who}
{who}的信用记录已经受影响了，你劝劝他|你是{who}的室友吧？他借我们的钱逾期了|{who}的分期已经好几个月没还了
hello, we are calling about the overdue balance of {who}|{who} has missed several payments with us|tell {who} to settle his debt
{who}嘅數仲未還|{who}的qian款还没结清|{who}的huankuan逾期了|{who}的dk到期了
""".replace("\n", "|").split("|")

NEGATED_MORE = """
我们承诺不会上门，也不会联系您的工作单位|您的通讯录我们无权也不会使用|请放心，我们不会将您的情况告诉您的家人
我们不会到您家，不会到您公司，也不会找您的父母|逾期并不违法，您不会因此被拘留|不会有人去学校找您的孩子
我司不会冒充公检法，也不会发送所谓的律师函|我们从不曝光借款人信息|您不会坐牢，逾期只是民事违约
我们既不会冻结您的账户，也不会查封您的财产|催收人员不得上门，更不会骚扰您的邻居|您的同事不会知道这件事
we will not visit your workplace or call your colleagues|you are not going to jail for a late payment|nobody will contact your neighbours
we do not and will not use your contacts|this is not a court notice and you are not being sued|we never threaten or insult our customers
我哋唔會搵你嘅同事|唔會有人上門|你唔會坐監，請放心|我們不會聯絡你嘅家人
""".replace("\n", "|").split("|")

FACTUAL_MORE = """
冻结、查封、扣划只能由人民法院依法进行|纳入失信被执行人名单须以生效法律文书为依据|被法院限制高消费的前提是有生效判决且拒不履行
如进入诉讼，判决结果以法院为准，我们目前仅做还款提醒|法院判决生效后拒不履行的，才可能被强制执行
反诈提醒：自称公安要求您转账到“安全账户”的都是骗子|公检法机关不会通过电话、短信办案或要求转账
近期有人冒充我司发送“法院传票”“律师函”，请以官方渠道为准|冒充律师催收属于违法行为，遇到请向我们举报
凡是声称可以“修复征信”“撤销逾期记录”的都是骗局|请勿点击自称法院发送的陌生链接
本合同项下争议，由原告住所地人民法院管辖|本协议争议提交上海仲裁委员会仲裁，仲裁裁决是终局的
甲乙双方因本协议产生争议的，应协商解决；协商不成的，可向甲方所在地人民法院起诉
对于催收员此前所说的“上门”“找家人”等话术，我们已核实并对其处理，向您致歉|您反映的催收员自称律师一事，我们已查实并停止其工作
您提到的“爆通讯录”说法并非我司行为，我们已暂停该外包机构|您说的“会被抓”是不实说法，逾期属于民事纠纷
the police never ask you to transfer money|only a court can order the seizure of property|a court judgment is required before any enforcement
our agent's remark about visiting your home was wrong and we apologise|scam warning: do not trust calls claiming to be from the court
法院發出嘅限制消費令先至有效，我哋無權限制你|小心冒充警察嘅詐騙電話
""".replace("\n", "|").split("|")


# Everyday compliant wording the model must not read as menace: family, safety, schooling, the
# address, call plans ("我们会在24小时内回复", "we will call you"), plain English.
REMINDERS_MORE = """
祝您和家人平安健康，本期账单{amount}请于{date}前还款|听说您父亲生病了，请先照顾好家人，还款可以晚几天|天冷注意保暖，记得明天还款哦
您的新住址已登记，结清证明会寄到新地址|您搬到新城市了吗？可以在App里修改联系地址|如您换了单位，请更新工作信息，谢谢
我们会在24小时内给您回复|客服会在2小时内回电，请保持手机畅通|我们明天上午会再联系您一次|我们下周一会再次提醒您
您可以在App里留言，我们会尽快处理|我们会把您的情况反馈给专员，稍后联系您|我们会通过短信通知您审核结果
孩子的学费开销大我们理解，可以先还最低还款额|家里有老人要照顾确实不容易，我们可以帮您申请延期|您的家人身体好些了吗
出门在外注意安全，有问题随时联系我们|夜里路滑，开车注意安全|祝您一路平安，回来后再处理还款也可以
您每天会收到一条还款提醒，如不需要可以回复退订|我们一天最多打一次电话|本周我们不会再打扰您
您的电话号码已更新，之后的提醒会发到新号码|您的工作单位信息已更新|您的紧急联系人已修改成功
您好，您母亲来电说您在住院，我们已暂停提醒，祝您早日康复|您好，您的家人已转告我们您的情况，我们会耐心等待
we will call you tomorrow to go through the options|we will reply within 24 hours|we will send you a text with the details
please update your address in the app|we hope you and your family are safe and well|take care, and get well soon
we will not charge extra fees during the pause|we will remind you again three days before the due date
you can reply to this message at any time|our team will contact you after the holiday|thank you, we have noted your new phone number
hi, just checking in about your payment plan|hello, your new repayment date is confirmed|we are here to help if you need more time
您嘅新地址我哋已經更新|祝你屋企人身體健康|我哋聽日會再打俾你|如有需要可以隨時搵我哋
他可能一直没告诉您这件事|我们一直在等您的回复|这段时间一直联系不上您，有点担心|您的家人一直很关心您
我们会一直为您保留这个减免名额|她一直按时还款，信用很好|一直打不通您的电话，方便时请回电|我们会陪着您一起想办法
有需要的话我们24小时在线|我们每个工作日都会处理您的留言|系统会在还款日前三天提醒您|到期当天会自动扣款，请留意余额
""".replace("\n", "|").split("|")


CALLBACK_MORE = """
您好，请问是{who}的家人吗？麻烦请他有空回个电话|您好，{who}留的紧急联系人是您，麻烦提醒他接听我们的来电
hi, is this still {who}'s number? please ask him to ring us back|hello, could you let {who} know we tried to reach him?
您好，打扰了，{who}最近换号码了吗？请他联系{lender}客服|唔該你話俾{who}知，叫佢得閒覆個電話
""".replace("\n", "|").split("|")

# Round three: menace that names no weapon (elders, children's standing, "our way", being watched),
# and "我们会/一直/知道" in everyday service wording so those words alone carry nothing.
THREAT_THIRD = """
你妈身体不好吧，别让她操心|老人家心脏受不了惊吓的|你爸那个年纪，出点事可不好办|你媳妇一个人带孩子挺辛苦，别给她添麻烦
你想让你孩子在学校被人指指点点吗|你女儿以后在同学面前怎么做人|让你孩子知道他爸是什么人
好话我只说这一次|我今天是客客气气跟你说，明天就不一定了|客气话说完了，接下来就不客气了|给你脸的时候你要接着
我们会用我们的方式解决|到时候就不是我们打电话了|接下来换别的人来跟你谈|我们有别的渠道让你还钱
我们在你们那片有兄弟|你们小区保安都认识我们了|你家楼下那家超市我们常去|你单位门口那个保安我们打过招呼了
我们一直盯着你呢|你的一举一动我们都知道|你今天去了哪我们清清楚楚|你以为我们不知道你在哪
👀盯着你|📍你的位置已锁定|👊准备好|🚪我们敲门了|🏃跑也没用
xiao心你的家人|hou果很严重的|ni给我等着|deng着瞧|zou着瞧|后果hen严重
think about your family before you ignore this|we have friends in your neighbourhood|we are watching you closely
this is the last polite message you will get|after today we will deal with it differently|you will not like what comes next
睇住嚟|你因住|我哋有人喺你樓下|你阿媽知唔知你咁樣
""".replace("\n", "|").split("|")

BENIGN_WE = """
我们会一直跟进您的问题，直到处理完毕|我们会持续关注，有进展第一时间告诉您|我们已经知道您的难处，会尽力帮您
我们的同事会在今天内给您回电|我们在您所在的城市有线下服务网点|我们随时在线，有问题可以找我们
这是最后一次提醒，如已还款请忽略|这是本期最后一条提醒短信|今天是本期最后还款日，请留意
您的家人很关心您，我们也希望帮您早日解决|您家里的情况我们会保密|您孩子的教育分期我们也可以了解一下
我们会每周给您发一次账单提醒|我们不会频繁打扰您|我们会按您方便的时间联系您|我们知道这段时间对您不容易
we will keep you updated on your request|we are here for you if you need more time|we know this is a difficult time
we will follow up until your issue is resolved|our local branch near you can help with cash repayment
不客气，再见|不客气，祝您生活愉快|不客气，有问题随时联系我们|不用客气，这是我们应该做的|您太客气了，祝您顺利|不客气哈，再见
不客气，有其他问题欢迎再来咨询|不客气，祝您周末愉快|好的不客气，再见啦|不客气，感谢您的耐心
他可能一直瞒着你，您可以和他好好沟通|她应该一直没跟您说，建议您们聊一聊|他一直没告诉家里人，我们也不便透露
we will call you tomorrow morning as agreed|we will text you the link again|we will contact you after the review
we will email you the settlement certificate|we will call you back within the hour|we'll reach out again next week to check in
""".replace("\n", "|").split("|")


# Round four: exposure through groups and feeds, partners told, typos of the usual words.
FALSE_CONSEQUENCE_FOURTH = """
你的欠款截图会发到你们公司钉钉群|明天在你的朋友圈下面留言说你欠钱|我们会加你家长群，让其他家长评评理
你女朋友还不知道你欠钱吧，我们去跟她说|你老公知道你在外面借钱吗？我们帮你告诉他|你丈母娘那边我们也会通知
你们村的微信群我们已经进去了|你的同学录我们也有，老同学都会知道|在你们单位门口发传单说你欠钱
你的身份证照片会被贴到网上|我们会给你的前同事打电话|你老家的村干部会收到通知|你的欠款会在你们小区群里公示
爆你tongxunlu|通迅录全部打一遍|找上们|马上上们|派人上们找你|坐劳去吧|做牢做定了
your girlfriend will hear about your debt from us|we will post in your company group chat|your classmates will all know
你嘅朋友圈會見到你欠錢|我哋會打俾你女朋友
""".replace("\n", "|").split("|")

INSULT_FOURTH = """
你个傻帽|二货一个|脑子瓦特了|你个废柴仔|你个矬子|窝囊废|没种的东西|你个衰仔|你是不是傻|你这人渣滓一样
sha帽|sb货|你个zz玩意|nt一个|你个憨包|死赖皮|你个赖子|你这人真下作|臭不要脸的赖子|下贱胚子
you absolute clown|you spineless loser|what a pathetic excuse for a person|you cheap liar
你條友冇腦|你個仆街仔|你個無賴佬|正一衰人
""".replace("\n", "|").split("|")


# --- round five (branch guard-lift): templates × slots, so a menace is learned as a shape -------------
# Each template is filled from the slot lists below ({rel}, {place}, {thing}, …) several times; the
# compliant templates use the same slots (family, home, car, school, "next time") so the slot words
# alone carry nothing.
SLOTS: dict[str, list[str]] = {
    "rel": [
        "你老母亲",
        "你爸",
        "你妈",
        "你媳妇",
        "你老婆",
        "你老公",
        "你闺女",
        "你儿子",
        "你奶奶",
        "你家老人",
        "你弟弟",
        "你岳父",
    ],
    "rel_polite": ["您的家人", "您母亲", "您父亲", "您爱人", "您孩子", "您家老人"],
    "place": [
        "小区",
        "楼道",
        "单元门口",
        "地下车库",
        "公司楼下",
        "菜市场",
        "老家村口",
        "你家巷子口",
        "学校门口",
        "公交站",
    ],
    "thing": ["车", "电动车", "刹车", "窗户", "门锁", "店面", "摊位", "阳台上的花盆", "家门口的监控"],
    "city": ["城东", "城西", "南山", "滨湖", "开发区", "老城区", "新区", "郊区"],
    "when": ["天黑以后", "晚上下班", "半夜回家", "一个人出门的时候", "周末带孩子出去", "下了夜班"],
    "job": ["在工地干活", "开货车", "跑外卖", "在厂里上夜班", "在医院上班", "在外地打工"],
    "act": ["躲", "拖", "装死", "关机", "换号码", "跑"],
    "hell": ["一团糟", "鸡犬不宁", "没法安生", "不得安宁", "寸步难行", "天天提心吊胆"],
    "mild": ["打电话", "发短信", "好好说话", "跟你客气", "线上沟通", "一个人来"],
    "dare": ["别出门", "别回家", "一直关机", "躲一辈子", "搬出国"],
}
THREAT_TEMPLATES = """
听说你搬到{city}了，那边我们也熟|{rel}一个人在家吧，我们去陪陪{rel_short}|{rel}{job}，可要注意安全啊|{when}最好小心点
你的{thing}最近可得多检查检查|出了什么意外，可都是你自己找的|有本事你一辈子别{act_out}|你看你能{act}到什么时候
下次就不是{mild}这么简单了|我们会让你的日子过得{hell}|你家{place}我们去转过了|你{place}那儿我们有人蹲着
{rel}最近还好吧？替我们问声好|等我们去了{city}，你就知道了|你就继续{act}吧，看谁耗得过谁|别等到真出事了才后悔
我们会一直在{place}等你|你要是想{rel}平平安安的就赶紧还|我们的耐心是有限的，过了今天就不好说了|今天是好好说，明天就不一定了
不还的话，{when}自己掂量掂量|你{thing}停哪儿我们都知道|还钱，不然有你好看的|到时候谁也帮不了你
我们知道你{rel_short}每天几点出门|我们的人过两天就到{city}|再{act}下去，什么事都可能发生|你慢慢体会吧，好戏还在后头
有种你就{dare}|你可以试试看，看我们找不找得到你|你猜我们下一步会做什么|{rel}经不起折腾，你自己想想|你{rel_short}知道你干的好事吗，要不要我们去说说
新家住得还习惯吧？我们会去看看的|{when}走路当心点，别怪没提醒你|意外这种事，谁说得准呢|{thing}要是哪天坏了，可别怨别人
客客气气的提醒就到这一条了|我们的人认得你的{thing}|你那个{place}人少，挺方便的|你家{rel_short}每天一个人在家，我们知道
再联系不上你，我们就用我们的办法|你能躲一天，你家里人可躲不了|我们会让你记住这笔钱的|下一个电话就不是我打的了
hou果你自己想|ni等着瞧|xiao心{thing}|小心你的{thing}🔪|👀{when}|📍{city}，我们到了|{rel}☠️
""".replace("\n", "|").split("|")
THREAT_TEMPLATES_ALT = """
這次唔還，下次就唔會咁客氣|你{act}得幾耐？我哋慢慢同你玩|你屋企{place}我哋去過|小心啲你個{thing}|你阿媽一個人喺屋企啊嘛
you'd better check your {thing_en} every morning|accidents happen to people who ignore us|next time it won't be a phone call
we know your {rel_en} is home alone|how long do you think you can {act_en}?|your life is about to get very hard
""".replace("\n", "|").split("|")
SLOTS_EN: dict[str, list[str]] = {
    "thing_en": ["car", "brakes", "front door", "windows", "shop"],
    "rel_en": ["mother", "wife", "old father", "little girl"],
    "act_en": ["hide", "run", "ignore us", "dodge our calls"],
}
# Insults that name no listed word: a superlative, a verdict on the person, a deserved fate.
INSULT_TEMPLATES = """
你真是我见过最{bad}的人|像你这么{bad}的人真是少见|你这种{bad_noun}活该{fate}|你这种{bad_noun}就该被{scorn}|顺便说一句，你真够{bad}的
你这{trait}，活该{fate}|{bad_noun}一个，还有脸不接电话|你们家出了你这么个{bad_noun}|跟你这种{bad_noun}说话都嫌脏
you are the most {bad_en} person I have ever dealt with|people like you deserve to {fate_en}
""".replace("\n", "|").split("|")
SLOTS_INSULT: dict[str, list[str]] = {
    "bad": ["没品", "无耻", "下作", "没良心", "赖皮", "窝囊", "没出息", "不要脸", "恶心", "卑鄙"],
    "bad_noun": ["败类", "货色", "人渣", "孬种", "赖皮", "无赖", "败家子", "白眼狼", "寄生虫", "丧门星"],
    "fate": ["穷一辈子", "没人看得起", "一辈子抬不起头", "打光棍", "被人戳脊梁骨"],
    "scorn": ["唾弃", "人人喊打", "戳脊梁骨", "看不起", "骂一辈子"],
    "trait": ["德性", "熊样", "人品", "怂样", "嘴脸"],
    "bad_en": ["shameless", "pathetic", "disgusting", "worthless"],
    "fate_en": ["stay poor forever", "be ashamed", "be despised"],
}
# Consequences (and their deadlines) are FALSE_CONSEQUENCE only: "跑不掉" does not make them a threat.
FALSE_CONSEQUENCE_TEMPLATES = """
{penalty}是跑不掉的|{penalty}是肯定的，你好好想想|等着{penalty}吧|你这种情况{penalty}没跑了|这样下去{penalty}是早晚的事
我们{visit_time}去{visit_place}{visit_why}|{team}已经出发去{visit_place}了|{team}{visit_time}到{visit_place}
{audience}都会知道你欠钱的事|我们会通知{audience}你欠款不还|把你的欠款情况告诉{audience}
""".replace("\n", "|").split("|")
SLOTS_FC: dict[str, list[str]] = {
    "penalty": [
        "拘留十五天",
        "判刑",
        "坐牢",
        "留案底",
        "被抓",
        "限制出行",
        "工资被冻结",
        "房子被查封",
        "进黑名单",
        "子女政审不过",
    ],
    "visit_time": ["明天上午", "今天下午", "这周末", "马上", "过两天"],
    "visit_place": ["你家", "你单位", "你父母家", "你老家", "你岳父母家", "你公司前台"],
    "visit_why": ["核实情况", "当面沟通", "走访一下", "做个登记", "了解一下你的还款能力", ""],
    "team": ["外访组", "核查小组", "我们的上门专员", "区域催收团队", "地面团队"],
    "audience": [
        "你的邻居",
        "你们整栋楼",
        "你公司人事",
        "你的老板",
        "你孩子的老师",
        "你们村里人",
        "你的同学",
        "你的前同事",
    ],
}
# To a third party: a consequence said about the borrower is a disclosure and a false consequence.
THIRD_PARTY_CONSEQUENCE = """
你告诉{who}，再不还钱我们就去他单位|麻烦转告{who}，欠款不还就去他家找他|你跟{who}说，不还钱我们就通知他公司
请你提醒{who}，逾期再不处理就要坐牢了|{who}的欠款再拖下去要被抓的，你劝劝他
""".replace("\n", "|").split("|")
# Call-back requests to a third party naming the company and the person sought, nothing more.
CALLBACK_TEMPLATES = """
您好，我们是{company}的，想找一下{who}，{ask}|你好，这里是{company}，请问{who}在吗？{ask}|打扰了，我是{company}的工作人员，{ask}
您好，{company}找{who}有点事，{ask}|hello, this is {company_en}, we are trying to reach {who}, {ask_en}
""".replace("\n", "|").split("|")
SLOTS_CALLBACK: dict[str, list[str]] = {
    "company": ["某某公司", "某某科技", "客服中心", "某某金融服务", "我们公司", "融易借客服"],
    "ask": [
        "有事和他联系",
        "麻烦让她回个电话",
        "请他方便时联系我们",
        "有事想跟她沟通一下",
        "麻烦转告他回电",
        "谢谢您",
    ],
    "company_en": ["the customer service centre", "Rongyi customer care"],
    "ask_en": ["could you ask them to call us back?", "please pass on our number", "thank you"],
}
# The same slots in lawful sentences: hardship, safety, new address, service points, anti-scam.
COMPLIANT_TEMPLATES = """
{rel_polite}生病的话，可以申请延期还款|{rel_polite}的情况我们了解，您先照顾好家里|您搬到{city}了吗？请在App里更新地址
您住的{city}附近有我们的合作网点，可以线下还款|下次还款日是{date}，到时会再提醒您|下次提醒会通过短信发送，不会打电话
您可以试试在App里自助还款|您看什么时候方便，我们再联系您|如果您{job_polite}不方便接电话，我们可以改成短信提醒
如有人以{authority}名义要求您还款或转账，请拨打官方客服核实|{document}都会通过正式渠道送达，短信里的链接请不要点击
{penalty_lawful}的前提是法院判决生效且拒不履行，您目前不属于这种情况|逾期不会导致{penalty_plain}，请您放心
我们不会去{visit_place_polite}，也不会联系{audience_polite}|{audience_polite}不会知道您的借款情况
{when}出行请注意安全，祝您生活愉快|天冷路滑，出门注意安全|节日期间注意出行安全，还款可在App办理|请您保管好{thing}和个人财物，谨防盗窃
我们下次会在{date}提醒您|我们会再给您发一次短信|您可以试试看申请延期|有种方案可能适合您，要不要了解一下
我们知道您{hardship}，{offer}|我们了解您{hardship}，{offer}|我们清楚您{hardship}，{offer}|我们都知道您{hardship}，{offer}
我们有{ours}，{ours_tail}|我们这边有{ours}，{ours_tail}|您{home_polite}那边如果有我们的{point}，也可以{point_do}
您{home_polite}附近有我们的{point}吗？可以在App里查一下|我们有的是耐心等您，有困难随时说|我们有办法帮您减轻压力，比如{offer_short}
您家里人知道的话可能会担心，我们不会主动联系他们|意外保险的理赔材料请通过App上传|如遇意外或疾病，可申请困难减免
""".replace("\n", "|").split("|")
SLOTS_OK: dict[str, list[str]] = {
    "hardship": [
        "最近不容易",
        "手头紧",
        "刚换了工作",
        "家里有人生病",
        "生意不好做",
        "最近收入减少了",
        "一个人带孩子",
    ],
    "offer": [
        "一起想想办法",
        "可以先还一部分",
        "我们帮您申请延期",
        "可以申请分期",
        "有困难随时跟我们说",
        "我们会尽量帮您",
    ],
    "ours": [
        "很多还款方式",
        "好几种方案",
        "专人跟进您的申请",
        "线下网点",
        "24小时客服",
        "减免政策",
        "分期方案",
        "人工客服",
    ],
    "ours_tail": [
        "您可以挑最方便的",
        "您看哪种合适",
        "有问题随时找我们",
        "您可以随时咨询",
        "需要的话我帮您登记",
    ],
    "home_polite": ["老家", "家", "单位", "住的地方", "小区", "所在的城市"],
    "point": ["网点", "合作门店", "营业厅", "服务站", "合作银行"],
    "point_do": ["去现场还款", "现场办理", "去咨询", "办理结清证明"],
    "offer_short": ["分期", "延期", "减免罚息", "调整还款日"],
    "job_polite": ["上班", "开车", "值夜班", "出差", "在医院陪护"],
    "authority": ["公安", "法院", "律师", "检察院", "监管部门", "执行局"],
    "document": ["律师函", "传票", "法院文书", "仲裁通知"],
    "penalty_lawful": ["限制高消费", "冻结银行账户", "强制执行", "列入失信被执行人名单"],
    "penalty_plain": ["坐牢", "拘留", "刑事责任", "被抓"],
    "visit_place_polite": ["您家", "您单位", "您老家", "您父母家"],
    "audience_polite": ["您的邻居", "您的同事", "您的领导", "您孩子的学校", "您的亲友"],
}


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


def fill_slots(rng: random.Random, template: str) -> str:
    """A round-five template with each {slot} drawn from the slot lists (other fields kept)."""
    slots = {**SLOTS, **SLOTS_EN, **SLOTS_INSULT, **SLOTS_FC, **SLOTS_OK, **SLOTS_CALLBACK}
    values = {name: rng.choice(options) for name, options in slots.items()}
    values["rel_short"] = rng.choice(["她", "他", "老人家", "他们"])
    values["act_out"] = rng.choice(["出门", "回家", "露面", "开机"])
    return template.format_map({**values, "who": "{who}", "date": "{date}"})


def fill(rng: random.Random, template: str) -> str:
    return template.format(
        name=rng.choice(NAMES),
        who=rng.choice([*THIRD_NAMES, "张先生", "他", "您的朋友"]),
        lender=rng.choice(LENDERS),
        amount=amount(rng),
        date=date(rng),
        tail=rng.randint(1000, 9999),
        phone=rng.choice(["400-000-0000", "95xxx", "021-12345678"]),
    )


def framed_violation(rng: random.Random, body: str) -> str:
    greeting = fill(rng, rng.choice(GREETINGS))
    body = fill(rng, body)
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

    banks = {
        "THREAT": THREAT + THREAT_MORE + THREAT_THIRD,
        "INSULT": INSULT + INSULT_MORE + INSULT_FOURTH,
        "FALSE_AUTHORITY": FALSE_AUTHORITY + FALSE_AUTHORITY_MORE,
        "FALSE_CONSEQUENCE": FALSE_CONSEQUENCE + FALSE_CONSEQUENCE_MORE + FALSE_CONSEQUENCE_FOURTH,
    }
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
        add(
            fill(rng, rng.choice(GREETINGS)) + fill(rng, f"{a}，{b}") + rng.choice(CLOSINGS),
            sorted([first, second]),
        )
    for phrase in CONDITIONAL_CONSEQUENCE:
        for _ in range(5):
            add(framed_violation(rng, phrase), ["FALSE_CONSEQUENCE"])
    third = [p.strip() for p in THIRD_PARTY + THIRD_PARTY_MORE if p.strip()]
    for template in third:
        for _ in range(10):
            add(
                fill(rng, rng.choice(["", "您好，", "你好，", "打扰了，"])) + fill(rng, template),
                ["THIRD_PARTY_DISCLOSURE"],
                True,
            )
    for template in [p.strip() for p in CALLBACK + CALLBACK_MORE if p.strip()]:
        for _ in range(12):
            add(fill(rng, template), [], True)
    for bank, repeats in (
        (REMINDERS + REMINDERS_MORE + BENIGN_WE, 8),
        (NEGATED + NEGATED_MORE, 10),
        (FACTUAL + FACTUAL_MORE, 8),
    ):
        phrases = [p.strip() for p in bank if p.strip()]
        for phrase in phrases:
            for _ in range(repeats):
                text = fill(rng, rng.choice(GREETINGS)) + fill(rng, phrase)
                if rng.random() < 0.5:
                    text += "。" + fill(rng, rng.choice(REMINDERS))
                add(
                    text + rng.choice(["", "。", "，谢谢。", "，祝您生活愉快！", "。如有疑问请联系客服。"]),
                    [],
                )
    for bank, codes, third, repeats in (
        (THREAT_TEMPLATES + THREAT_TEMPLATES_ALT, ["THREAT"], False, 10),
        (INSULT_TEMPLATES, ["INSULT"], False, 10),
        (FALSE_CONSEQUENCE_TEMPLATES, ["FALSE_CONSEQUENCE"], False, 14),
        (THIRD_PARTY_CONSEQUENCE, ["FALSE_CONSEQUENCE", "THIRD_PARTY_DISCLOSURE"], True, 8),
        (COMPLIANT_TEMPLATES, [], False, 10),
        (CALLBACK_TEMPLATES, [], True, 10),
    ):
        for template in [t.strip() for t in bank if t.strip()]:
            for _ in range(repeats):
                text = fill(rng, fill_slots(rng, template))
                add(framed_violation(rng, text) if codes and not third else text, codes, third)
    rng.shuffle(out)
    handwritten = handwritten_rows()
    written_by_hand = {row["text"] for row in handwritten}
    unique: dict[str, dict[str, object]] = {}
    for row in out:
        if row["text"] not in written_by_hand:  # a hand-written label wins over a generated one
            unique.setdefault(str(row["text"]), row)
    return list(unique.values()) + handwritten


def handwritten_rows(path: Path = HANDWRITTEN) -> list[dict[str, object]]:
    """The hand-written rows as they are: no frames, no styles (each is already a whole message)."""
    lines = path.read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def main() -> None:
    data = rows()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as handle:
        for row in data:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(data)} rows → {OUT}")


if __name__ == "__main__":
    main()
