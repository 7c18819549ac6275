"""Write the assistant's generated training corpus: `src/lenddesk/assistant/data/train/corpus.jsonl`.

Each line is {"text", "intent", "emotion", "scam"}. The sentences start from hand-written cores
(below, one list per intent, scam scripts told as a victim's story) and are rewritten in the
styles borrowers use: colloquial frames, no punctuation, typos and homophones, Traditional
characters, Cantonese, pinyin and initials, full-width, English and mixed, emoji, long stories
with context, other lenders' products, and the anxious or angry telling of the same question.
Deterministic (a fixed seed): run it again after editing the cores and commit the result.

    PYTHONPATH=src python scripts/assistant_data.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from opencc import OpenCC
from pypinyin import lazy_pinyin

OUT = Path(__file__).resolve().parents[1] / "src/lenddesk/assistant/data/train/corpus.jsonl"
SEED = 19
PER_INTENT = 600
_s2t = OpenCC("s2t")

PRODUCTS = (
    "花呗",
    "借呗",
    "微粒贷",
    "白条",
    "京东白条",
    "美团月付",
    "分付",
    "金条",
    "放心借",
    "360借条",
    "安逸花",
    "你们app的借款",
    "这笔借款",
    "我的贷款",
    "这个分期",
    "信用卡分期",
)

CORES: dict[str, list[str]] = {
    "repay_how": [
        "{p}怎么还",
        "{p}在哪里还款",
        "还款入口在哪",
        "app里找不到还款按钮",
        "可以用微信还{p}吗",
        "能不能用支付宝还款",
        "怎么主动还款",
        "自动扣款怎么开通",
        "可以线下还吗 去银行柜台行不行",
        "能转账到你们对公账户还吗",
        "用别人的卡帮我还可以吗",
        "信用卡能还{p}吗",
        "还款要怎么操作",
        "手机上怎么还钱",
        "我想还钱不知道怎么弄",
        "还款流程是什么",
        "老人不会用手机 怎么帮他还",
        "怎么设置自动还款",
        "零钱可以还款吗",
        "小程序能还{p}吗",
        "怎么把这期先还了",
        "可以分几次还这一期吗",
        "还款的渠道有哪些",
        "钱放哪张卡会自动扣",
        "{p}还款方式",
        "怎么才能还上这期",
        "银行卡还款要绑卡吗",
    ],
    "repay_amount": [
        "{p}这个月要还多少",
        "我还欠多少钱",
        "这期应还金额是多少",
        "总共还要还多少",
        "剩余本金还有多少",
        "账单金额是多少",
        "下个月还多少",
        "每期还款额是多少",
        "为什么这期比上期多",
        "怎么这个月账单变多了",
        "还剩几期没还",
        "全部还完要多少钱",
        "本金加利息一共多少",
        "我的{p}待还多少",
        "这期最低还多少",
        "查一下我的欠款",
        "帮我看下本期账单",
        "还差多少才还清",
        "月供多少",
        "这个月扣多少钱",
        "欠款明细在哪看",
        "借了5000每个月还多少",
    ],
    "repay_date": [
        "{p}几号还款",
        "还款日是哪天",
        "每个月什么时候扣款",
        "最后还款日是几号",
        "还款日能改吗",
        "能不能把还款日改到15号",
        "我发工资是20号 还款日能调成20号吗",
        "还款日以后固定改成月底可以吗",
        "节假日还款会顺延吗",
        "几点之前还款算按时",
        "今天是还款日吗",
        "下一期什么时候还",
        "当天晚上12点前还算逾期吗",
        "账单日和还款日有什么区别",
        "扣款是几点扣",
        "{p}账单日是几号",
        "还款日期在哪里看",
        "想永久修改还款日",
        "下次扣款是哪一天",
        "宽限期是几天",
    ],
    "repay_failed": [
        "{p}我已经还了怎么还显示待还",
        "钱还了还一直提醒我还款",
        "卡里有钱为什么没扣款",
        "扣款失败是什么原因",
        "还款失败了怎么办",
        "钱存进卡里了怎么还没扣",
        "明明还了还说我逾期",
        "已经还款了还在催我",
        "银行卡扣了钱但是账单没变",
        "还款显示处理中好几天了",
        "重复扣了两次款",
        "付款成功了但是订单还是未还",
        "还完了为什么还收到逾期短信",
        "扣款不成功 卡是正常的",
        "我转账还款了没入账",
        "系统显示还款失败 银行卡被扣了",
        "提前存了钱结果没划扣 现在算逾期了",
        "昨天还的钱怎么没到账",
        "{p}还款了额度没恢复 还显示欠款",
        "支付时提示余额不足 可我卡里有钱",
        "还款一直失败",
        "钱被扣了两遍",
    ],
    "early_repay": [
        "{p}可以提前还款吗",
        "我想一次性还清",
        "提前结清要手续费吗",
        "提前还款有违约金吗",
        "提前还利息怎么算",
        "提前还的话利息还收吗",
        "能不能提前把剩下的都还了",
        "提前还款怎么操作",
        "提前结清能省多少利息",
        "还了三期想全部结清",
        "提前还款收不收钱",
        "我有钱了想提前还完",
        "一次性结清要多少钱",
        "提前还部分本金可以吗",
        "提前还款后利息按天算吗",
        "全额还款在哪里操作",
        "提前还会不会影响征信",
        "提前还款要多付一个月利息吗",
    ],
    "settle_proof": [
        "结清证明怎么开",
        "我还清了 需要结清证明",
        "能开个还款凭证吗",
        "贷款结清后怎么证明",
        "买房要结清证明 去哪里申请",
        "开具结清证明要多久",
        "结清证明可以盖章吗",
        "我需要还款流水",
        "能发一份还款记录给我吗",
        "已经还完了怎么下载结清证明",
        "{p}结清证明",
        "还款凭证在哪里下载",
        "要一个无欠款证明",
        "结清证明能寄纸质的吗",
        "房贷审批要我提供网贷结清证明",
    ],
    "loan_apply": [
        "怎么申请借款",
        "{p}怎么开通",
        "我想借钱",
        "借款审核要多久",
        "审核中是什么意思",
        "申请被拒了为什么",
        "为什么审核没通过",
        "放款要多久",
        "钱什么时候到账",
        "借款成功了钱还没到",
        "显示放款中一直没到卡里",
        "客服打电话确认是审核流程吗",
        "审核要回访电话吗",
        "需要什么资料才能借",
        "没有工作能借吗",
        "学生可以申请吗",
        "借款要抵押吗",
        "提交申请后多久有结果",
        "能借多少年",
        "最多可以分几期",
        "为什么一直在审核中",
        "放款失败怎么回事",
        "下款了吗",
        "能不能再借一笔",
        "申请借款要人脸识别吗",
        "借钱需要征信好吗",
    ],
    "interest_rate": [
        "{p}利息多少",
        "年化利率是多少",
        "借一万一个月利息多少",
        "日利率是多少",
        "利息怎么算的",
        "为什么利息这么高",
        "有没有其他费用",
        "服务费是什么费用",
        "担保费是什么",
        "综合年化超过24了吗",
        "等额本息还是先息后本",
        "借10000总共要付多少利息",
        "利率能降吗",
        "有免息券吗",
        "分12期利息是多少",
        "你们的利率合法吗",
        "除了利息还收什么钱",
        "借款成本是多少",
        "息费怎么算",
        "会员费是必须买的吗",
    ],
    "penalty_fee": [
        "逾期罚息怎么算",
        "{p}逾期了罚多少",
        "滞纳金是多少",
        "违约金能减免吗",
        "罚息可以免掉吗",
        "能不能把逾期的罚息给我减了",
        "逾期一天收多少钱",
        "为什么多了一笔罚息",
        "逾期费用太高了能少点吗",
        "罚息是按天算吗",
        "晚还了两天要交多少违约金",
        "减免罚息怎么申请",
        "只还本金 罚息能不能不要",
        "逾期费能退吗",
        "罚息利率是多少",
        "滞纳金可以申请免除吗",
    ],
    "overdue_consequence": [
        "{p}逾期了怎么办",
        "逾期会怎么样",
        "逾期有什么影响",
        "逾期了还能用吗",
        "晚还一天有什么后果",
        "逾期了会被起诉吗",
        "逾期会不会打电话给我家人",
        "逾期后还能再借吗",
        "逾期了会不会坐牢",
        "逾期三个月会怎样",
        "逾期了账户会冻结吗",
        "逾期会影响坐高铁吗",
        "晚了两天还会有什么问题",
        "逾期了会上门吗",
        "逾期会影响我孩子上学吗",
        "忘记还款了会怎么样",
        "一直不还会怎么样",
        "逾期了还款后能恢复吗",
        "逾期会联系我单位吗",
    ],
    "credit_report": [
        "{p}会上征信吗",
        "逾期会上征信吗",
        "逾期一天上不上征信",
        "征信什么时候更新",
        "还清了征信多久恢复",
        "能帮我修改征信记录吗",
        "征信上的逾期记录能消除吗",
        "你们接入人行征信了吗",
        "借款会不会影响征信",
        "查征信会留下记录吗",
        "不良记录多久消除",
        "信用记录上显示逾期怎么办",
        "我的征信被你们报错了",
        "征信异议怎么申请",
        "人行报告上有你们的记录",
        "会影响我房贷的征信吗",
        "征信有逾期还能借吗",
        "征信报告上的查询记录是你们查的吗",
        "上征信是以什么名义",
        "结清后征信显示正常吗",
        "信用报告什么时候上报",
    ],
    "hardship": [
        "我还不上了",
        "这个月没钱还",
        "能不能晚几天还",
        "可以延期还款吗",
        "宽限几天行吗",
        "失业了还不起 有什么办法",
        "能不能申请分期",
        "逾期了能重新分期吗",
        "可以停息分期吗",
        "能不能只还本金慢慢还",
        "生病住院了 能不能缓一缓",
        "工资推迟发了 能晚一周还吗",
        "我想申请展期",
        "手头紧 这期能少还点吗",
        "有没有延期还款的政策",
        "能给个还款计划吗 我分几个月还清",
        "{p}还不上了能协商吗",
        "这期能不能推到下个月",
        "疫情生意不好 能不能先还一部分",
        "家里出事了 能不能暂停还款",
        "过两天发工资再还可以吗",
    ],
    "limit": [
        "{p}额度是多少",
        "怎么提额",
        "额度为什么降了",
        "额度怎么没了",
        "能借的额度在哪看",
        "为什么额度被冻结",
        "还款后额度多久恢复",
        "额度能不能提高点",
        "可用额度为0",
        "额度被关闭了是什么原因",
        "我的额度有效期多久",
        "临时额度怎么申请",
        "为什么别人额度比我高",
        "额度突然降了一半",
        "怎么查看剩余额度",
    ],
    "account_change": [
        "怎么换还款银行卡",
        "换绑银行卡",
        "手机号换了怎么改",
        "怎么修改绑定的手机号",
        "银行卡注销了要换一张",
        "更换扣款卡",
        "{p}解绑银行卡",
        "修改预留手机号",
        "换个卡扣款可以吗",
        "地址变了在哪改",
        "改一下紧急联系人",
        "注销账户怎么操作",
        "我想修改身份信息",
        "登录密码忘了怎么改",
        "实名信息写错了能改吗",
        "怎么注销我的账号",
        "工作单位变了要更新吗",
    ],
    "chitchat": [
        "你好",
        "在吗",
        "在不在",
        "谢谢",
        "好的谢谢",
        "嗯嗯",
        "哦",
        "你是机器人吗",
        "你是真人吗",
        "你叫什么名字",
        "早上好",
        "晚安",
        "辛苦了",
        "明白了",
        "好的知道了",
        "拜拜",
        "你们几点下班",
        "你好呀",
        "有人吗",
        "ok",
        "收到",
        "哈哈",
        "你是ai吗",
        "是机器人在回复吗",
    ],
    "verify_official": [
        "这个电话是你们打的吗",
        "95188开头的是你们的号码吗",
        "有个人说是你们催收员 是真的吗",
        "这条短信是你们发的吗",
        "收到一个链接说是你们的 能点吗",
        "你们的官方客服电话是多少",
        "怎么确认是不是你们的工作人员",
        "工号1234的客服是你们的人吗",
        "这个微信号是你们官方的吗",
        "有个app叫{p}极速版是你们的吗",
        "有人加我qq说是你们客服 真的假的",
        "你们官网是哪个",
        "这个号码4008123123是你们的吗",
        "律师函是你们发的吗",
        "收到法院短信说我被起诉了 是不是你们",
        "这个公众号是官方的吗",
        "对公账户是这个吗 6222开头的",
        "你们有没有外包催收公司 叫什么名字",
    ],
    "fraud_report": [
        "我被骗了",
        "有人冒充你们骗了我钱",
        "我要举报一个冒充你们的诈骗电话",
        "有人用我的身份证借了钱",
        "我没借过钱 却被催收",
        "我的账户被盗了 有人借款",
        "这笔借款不是我本人借的",
        "有人冒用我的名义在你们这借款",
        "被骗了转了钱 能帮我追回吗",
        "骗子说是你们的客服 骗走了3000",
        "我的手机丢了 有人用它借钱了",
        "举报诈骗",
        "不是我借的钱 怎么处理",
    ],
    "complaint": [
        "我要投诉",
        "投诉电话是多少",
        "怎么投诉你们客服",
        "你们客服态度太差了 我要投诉",
        "乱收费 我要投诉",
        "你们乱扣钱 我要投诉到银保监",
        "客服一直不解决问题",
        "我要投诉你们的服务",
        "对处理结果不满意",
        "你们的保险是强制捆绑的 我要投诉",
        "借款的时候没告诉我有服务费",
        "投诉渠道是什么",
        "你们泄露了我的个人信息",
        "客服挂我电话",
        "我要反映问题 你们的收费不合理",
        "我要投诉 退我多收的钱",
    ],
    "collection_complaint": [
        "催收打电话给我家人",
        "催收太频繁了 一天打十几个电话",
        "你们催收骂人",
        "催收给我同事打电话",
        "催收威胁我要上门",
        "催收员说要起诉我让我坐牢",
        "投诉你们的催收",
        "爆我通讯录了",
        "催收半夜打电话",
        "催收发短信给我的朋友",
        "催收人员冒充律师吓唬我",
        "催收打到我单位去了",
        "能不能别再打给我妈了",
        "催收的人态度特别恶劣",
        "我已经在还了 催收还一直打",
        "催收说要去我老家",
    ],
    "human": [
        "转人工",
        "人工客服",
        "我要找人工",
        "找个真人",
        "能不能让人工跟我说",
        "我要和客服本人说话",
        "人工",
        "找你们工作人员",
        "叫个活人来",
        "机器人听不懂 给我转人工",
        "客服电话打不通 能在线转人工吗",
        "有没有人工服务",
        "我不想跟机器人聊",
        "请帮我接通人工客服",
        "你是机器人吗 我要人工",
        "人工客服什么时候上班",
    ],
    "other": [
        "商家怎么开通{p}收款",
        "我是商家 顾客用{p}付款怎么收钱",
        "退款退到哪里了",
        "买的东西退货了 钱什么时候退回来",
        "怎么申请退款",
        "网购订单显示已支付 商家没收到",
        "淘宝买东西怎么用{p}付",
        "话费充值没到账",
        "收款码怎么申请",
        "外卖订单退款多久到",
        "今天天气怎么样",
        "给我讲个笑话",
        "推荐一只股票",
        "你们招聘吗",
        "附近有银行网点吗",
        "信用卡怎么办理",
        "余额宝收益怎么算",
        "怎么开发票",
        "美团外卖优惠券怎么用",
        "快递几天能到",
        "门店收款手续费多少",
        "扫码支付失败 商家那边没显示",
        "怎么设置支付密码",
        "积分怎么兑换",
        "我想买理财",
        "网店怎么接入分期付款",
        "订单被取消了钱怎么退",
        "转账给朋友转错了怎么办",
        "游戏充值能退吗",
    ],
}

EN: dict[str, list[str]] = {
    "repay_how": ["how do i repay", "how can I pay back my loan", "where is the repay button in the app"],
    "repay_amount": ["how much do i owe", "what is my bill this month", "how much is left to pay"],
    "repay_date": ["when is my due date", "can i change the due date", "which day is the payment deducted"],
    "repay_failed": [
        "i paid but it still shows unpaid",
        "payment failed but money was taken",
        "autopay didnt work",
    ],
    "early_repay": [
        "can i repay early",
        "is there a fee for early repayment",
        "i want to pay off the whole loan",
    ],
    "settle_proof": [
        "i need a settlement certificate",
        "proof that the loan is paid off",
        "payment receipt please",
    ],
    "loan_apply": [
        "how to apply for a loan",
        "when will the money arrive",
        "why was my application rejected",
    ],
    "interest_rate": ["what is the interest rate", "apr?", "how is the interest calculated"],
    "penalty_fee": [
        "late fee waiver please",
        "how much is the late payment penalty",
        "can you waive the penalty",
    ],
    "overdue_consequence": [
        "what happens if i pay late",
        "i am overdue what now",
        "can i still use it if overdue",
    ],
    "credit_report": [
        "will this affect my credit report",
        "do you report to the credit bureau",
        "credit record fix",
    ],
    "hardship": ["i cant pay this month", "can i get an extension", "lost my job cannot repay"],
    "limit": ["how to increase my limit", "why did my credit limit drop", "what is my limit"],
    "account_change": ["change my bank card", "update my phone number", "how to close my account"],
    "chitchat": ["hi", "hello", "thanks", "are you a robot", "good morning", "ok thanks"],
    "verify_official": ["is this number yours", "is this sms from you", "what is your official hotline"],
    "fraud_report": ["i was scammed", "someone took a loan in my name", "fraud report"],
    "complaint": [
        "i want to file a complaint",
        "your service is bad i want to complain",
        "complaint hotline",
    ],
    "collection_complaint": [
        "your collector called my family",
        "stop calling my boss",
        "debt collector threatened me",
    ],
    "human": ["human agent please", "talk to a real person", "live agent", "customer service person pls"],
    "other": ["how do merchants get paid", "refund for my order", "whats the weather", "tell me a joke"],
}

# More cores in the terse style of service logs (花呗/借呗-type questions), by boundary.
MORE: dict[str, list[str]] = {
    "repay_how": [
        "{p}账单怎么还不了 点还款没反应",
        "用余额还{p}可以吗",
        "我在国外 怎么还款",
        "还款的时候提示要绑卡 怎么绑",
        "{p}可以用别人的支付宝帮我还吗",
        "怎么还{p}的钱",
        "还款页面在哪",
        "{p}怎么还款最方便",
        "能不能直接转账还",
        "还款可以用云闪付吗",
        "能用数字人民币还吗",
        "自动还款失效了 怎么重新开",
        "家人能帮我还吗",
        "我想还{p} 不知道从哪进去",
        "app里还款点哪个",
    ],
    "repay_amount": [
        "{p}本月应还多少",
        "这期怎么多了几十块",
        "还款金额为什么跟合同不一样",
        "{p}还剩多少没还",
        "我这个月要还多少钱啊",
        "最低还款额是多少",
        "账单明细里多的钱是什么",
        "利息加本金这期合计多少",
        "欠款总额多少",
    ],
    "repay_date": [
        "周末扣款吗",
        "{p}每月几号扣",
        "哪天出账单",
        "几号是最后还款日",
        "过了还款日几点算逾期",
        "还款日可以往后调吗 以后每个月都按新的日子",
        "还款日在哪里改",
        "每期的还款时间",
        "下个还款日是几号",
    ],
    "repay_failed": [
        "{p}已经还了 为什么还显示逾期",
        "我还款了怎么还是逾期状态",
        "扣了钱但是显示未还款",
        "自动扣款没扣 卡里有余额",
        "还款成功了又收到催款短信",
        "钱已经还上了 怎么还有人打电话催",
        "还款后账单没有更新",
        "付了钱 但是借款记录没变",
        "还款失败 提示银行卡异常 但卡能用",
        "我还了两次 多扣的钱怎么退",
        "已还款 状态还是还款中",
    ],
    "early_repay": [
        "提前还清还收利息吗",
        "提前还款利息怎么算",
        "提前还要付违约金吗 多少",
        "{p}能不能提前全部还完",
        "一次还清剩下的要多少钱",
        "提前结清后能再借吗",
    ],
    "loan_apply": [
        "{p}怎么开通不了",
        "{p}怎么申请",
        "开通{p}需要什么条件",
        "借款申请一直不通过",
        "放款到哪张卡",
        "提现多久到账",
        "借款被拒多久能再申请",
        "为什么借不出来钱",
        "申请借款填错了能改吗",
        "钱借出来了没收到",
        "审核电话是哪个号码打来",
        "怎么才能借到钱",
        "借款要多久放款",
    ],
    "interest_rate": [
        "{p}利息怎么算",
        "{p}日利率多少",
        "万分之五的利息一年多少",
        "分期手续费是多少",
        "{p}分期的费率是多少",
        "为什么我的利率比别人高",
        "利率怎么这么高",
    ],
    "penalty_fee": [
        "{p}逾期利息怎么算",
        "晚还一天违约金多少",
        "逾期几天罚息多少钱",
        "滞纳金怎么这么多",
        "罚息能退回来吗",
        "能减免点逾期费用吗",
        "逾期费用能不能取消",
    ],
    "overdue_consequence": [
        "{p}逾期一天有什么影响",
        "逾期会被拉黑吗",
        "逾期还款后还能借吗",
        "逾期了{p}会被关闭吗",
        "逾期会不会影响家人",
        "逾期不还会被告吗",
        "逾期了会不会影响我以后贷款买房",
        "逾期几天没事吧",
    ],
    "credit_report": [
        "{p}上征信吗",
        "逾期一天会不会有不良记录",
        "会不会报送到人行",
        "征信上显示我还有一笔没结清 其实还了",
        "不良记录多久能消",
        "你们什么时候上报征信",
        "征信有问题能借吗",
        "征信查询次数多会不会不给借",
        "{p}会影响征信吗",
        "征信报告里你们的记录不对",
        "逾期记录会保留几年",
        "用了{p}会影响房贷吗 征信上能看到吗",
    ],
    "hardship": [
        "能不能延期一个月",
        "这个月资金周转不开",
        "我真的没钱还了",
        "我现在一分钱都没有 还不上",
        "逾期了可以重新分期吗",
        "{p}能不能延期还款",
        "{p}还不上了怎么办",
        "能不能帮我申请个分期 慢慢还",
        "可以只还一部分吗 剩下的下个月还",
        "申请停息挂账",
        "能不能个性化分期",
        "收入没了 月供压力太大",
    ],
    "limit": [
        "{p}为什么用不了了",
        "{p}被关闭了",
        "{p}额度怎么提升",
        "为什么我的{p}额度这么低",
        "{p}怎么突然不能借了",
        "{p}额度恢复要多久",
        "{p}被冻结了怎么解冻",
        "额度还能用多少",
    ],
    "account_change": [
        "{p}绑定的银行卡怎么改",
        "扣款银行卡换一张",
        "银行卡丢了 要换扣款卡",
        "收不到验证码 手机号换了",
        "改还款卡",
        "怎么解绑旧的卡",
    ],
    "chitchat": [
        "好哒",
        "没事了",
        "在么",
        "嗯 好",
        "ok的",
        "了解",
        "知道了 谢谢你",
        "客服你好",
        "你是人还是机器",
    ],
    "verify_official": [
        "这个人说他是你们的员工 我怎么核实",
        "这个网址是你们的官网吗",
        "短信里的链接安全吗 是你们发的吗",
        "有个律师事务所打电话说受你们委托 是真的吗",
        "你们的还款账户是个人账户吗",
    ],
    "fraud_report": [
        "我被冒名借款了",
        "被骗子骗了 怎么报案",
        "有人拿我的信息申请了贷款",
    ],
    "complaint": [
        "我要投诉你们客服不作为",
        "你们私自扣费",
        "我要求退还服务费",
        "客服说会回电 等了三天没人联系",
        "你们的合同有霸王条款",
    ],
    "collection_complaint": [
        "催收的电话能不能少打点",
        "催收员辱骂我",
        "催收给我发恐吓短信",
        "催收把我的欠款告诉了我朋友",
    ],
    "human": [
        "找个人工",
        "人工人工人工",
        "转接客服",
        "在线客服在哪",
        "能不能打电话给我 我要和人说",
        "客服小姐姐在吗 我要人工",
    ],
    "other": [
        "为什么这个商家不能用{p}付款",
        "{p}付款失败 商家说没收到",
        "退货退款多久到账",
        "网购退款退到{p}了吗",
        "商家怎么开通分期收款",
        "收钱码的手续费怎么算",
        "我是卖家 买家用{p}付的钱什么时候到我账上",
        "付款码在哪里",
        "怎么给别人转账",
        "红包怎么发",
        "余额宝怎么转出",
        "买基金亏了怎么办",
        "电费怎么交",
        "机票改签怎么弄",
        "手机丢了支付宝怎么冻结",
        "我想办一张信用卡",
        "保险怎么理赔",
        "优惠券过期了",
        "积分能换什么",
        "怎么开电子发票",
        "买东西能不能用{p}分期",
        "{p}购物退款了 分期怎么处理",
        "订单支付不了",
        "扫码付款提示交易异常",
        "游戏充值到账了吗",
        "打车费用扣错了",
        "酒店订单怎么取消",
        "怎么查我的芝麻分",
    ],
}
for _intent, _extra in MORE.items():
    CORES[_intent] = CORES[_intent] + _extra

EN_MORE: dict[str, list[str]] = {
    "repay_how": ["can i repay with alipay", "where do i pay"],
    "repay_failed": ["money deducted twice", "paid but not updated"],
    "loan_apply": ["my loan was approved but no money yet", "how long does review take", "apply for loan"],
    "other": ["refund for my order", "how to open merchant payment", "my online shopping payment failed"],
    "interest_rate": ["interest too high? whats the rate", "what's the daily rate"],
    "fraud_report": [
        "someone called pretending to be your staff and took my money",
        "scammed by fake customer service",
    ],
}
for _intent, _extra in EN_MORE.items():
    EN[_intent] = EN[_intent] + _extra


REPLACEMENTS: dict[str, list[str]] = {
    "repay_how": ["{p}可以用借记卡还吗", "支付宝余额能还{p}吗", "人不在国内怎么还{p}", "境外怎么还钱"],
    "loan_apply": [
        "提示综合评分不足 借不了",
        "评分不够申请不通过",
        "审核通过了钱一直没到",
        "有人打电话核实借款是不是本人 正常吗",
        "想借一万块 怎么申请",
    ],
    "chitchat": ["好啦 谢谢", "知道啦", "多谢", "thx", "好滴", "晚安啦", "嗯嗯知道了"],
    "verify_official": ["你们的官方电话是哪个", "怎么知道这个来电是不是你们", "短信说要起诉我 是你们发的吗"],
    "complaint": ["你们强行收会员费 我要投诉", "要投诉 你们搭售保险"],
    "human": ["帮忙转个人工", "想和人工客服聊", "人工在不在"],
    "other": [
        "顾客扫码付款 商家怎么收{p}的钱",
        "网店退款的钱去哪了",
        "外卖退单钱怎么退回",
        "手机充值失败钱被扣了",
        "网购付款一直失败",
        "快递到哪了",
        "会员自动续费怎么取消",
        "视频会员退订",
        "商户怎么接入{p}",
    ],
}
for _intent, _extra in REPLACEMENTS.items():
    CORES[_intent] = CORES[_intent] + _extra


# The weakest boundaries of today's model (issue 19): other, complaint, credit_report, repay_failed,
# hardship — said in more ways.
BOUNDARIES: dict[str, list[str]] = {
    "other": [
        "这个商家支持{p}吗",
        "{p}付款提示交易失败",
        "为什么有的店不能用{p}",
        "{p}红包怎么用",
        "扫码付钱老是不成功",
        "我买东西的钱退了没",
        "取消订单后退款去哪了",
        "商家退款了 {p}账单里怎么还有",
        "店铺收款怎么提现",
        "商家{p}收款要手续费吗",
        "怎么成为你们的合作商户",
        "我卖货的钱怎么没到账",
        "线上支付一直提示风险",
        "购物车里的东西怎么付款",
        "水费燃气费在哪交",
        "支付密码忘了",
        "信用卡还款日是几号",
        "房贷利率多少",
        "微信零钱通收益",
        "亲情卡怎么开通",
        "免密支付怎么关",
        "退款申请被商家拒绝了",
        "手机号被停机了怎么办",
        "我想投资 有什么推荐",
        "你们的股价多少",
        "公司地址在哪",
        "你们招不招客服",
    ],
    "complaint": [
        "你们不经过我同意就开通了会员",
        "要求退还多收的利息",
        "我要求赔偿损失",
        "你们的服务太差了",
        "你们涉嫌违规收费",
        "我要反馈一个问题 你们处理太慢了",
        "为什么擅自扣我的钱",
        "你们的保费我要退",
        "申请退会员费",
        "等了一个星期还没处理 什么效率",
        "你们的工作人员说话不礼貌",
        "客服答应退款一直没退",
        "要去消协反映",
        "我要打12378",
        "你们的利息超过法律规定了 要求退还",
    ],
    "credit_report": [
        "会影响我的信用吗",
        "上不上报告",
        "个人信用报告上能看到吗",
        "人行系统里会有记录吗",
        "我的信用分会不会降",
        "征信花了还能借吗",
        "会不会变成失信",
        "{p}逾期几天会上报",
        "征信显示的欠款金额不对",
        "还清后多久征信更新",
        "逾期记录能不能撤销",
        "非恶意逾期能消除征信记录吗",
        "我查了征信有你们的查询记录 我没申请过",
    ],
    "repay_failed": [
        "今天扣款没成功",
        "系统说扣款失败",
        "明明卡里有钱 为什么说余额不足",
        "银行说钱扣了 你们说没收到",
        "还款了 借款记录还在",
        "还款以后还显示逾期罚息",
        "{p}还了 还收到逾期短信",
        "为什么我的还款没到账",
        "还的钱去哪了",
        "超过单笔限额 还款不成功",
        "还款一直提示交易处理中",
        "主动还款失败 提示系统繁忙",
    ],
    "hardship": [
        "能协商还款吗",
        "能不能申请延期",
        "还不起了 能不能少还点",
        "只能先还利息 本金晚点还可以吗",
        "{p}逾期了 想分期还",
        "最近没收入 想暂停几个月",
        "能不能减免一些 然后分期",
        "宽限期能延长吗",
        "我被裁员了 这个月还不了",
        "{p}可以延期吗",
        "生病了 能不能过段时间再还",
        "还款压力太大了 能不能重新规划",
    ],
    "overdue_consequence": [
        "逾期了会上门催收吗",
        "逾期会被起诉到法院吗",
        "逾期会不会影响子女",
        "逾期会不会被限制高消费",
        "我逾期了 现在该怎么办",
        "逾期了 {p}还能不能继续用",
        "逾期一周有什么后果",
    ],
}
for _intent, _extra in BOUNDARIES.items():
    CORES[_intent] = CORES[_intent] + _extra


CHITCHAT_MORE = [
    "在吗在吗",
    "有人在吗",
    "哈喽",
    "嗨喽",
    "谢谢亲",
    "拜拜了",
    "好",
    "行",
    "可以",
    "好的呢",
    "嗯呢",
    "👌",
    "🙏🙏",
    "😊",
    "hello?",
    "早",
    "中午好",
    "辛苦啦",
    "麻烦你了",
    "没问题了",
    "你好 我想咨询一下",
    "咨询",
    "我有个问题",
    "打扰了",
    "你能做什么",
    "你会什么",
    "你是谁",
    "你是智能客服吗",
    "你是真人还是机器人",
    "我是不是在跟机器人聊天",
    "机器人你好",
    "测试",
    "test",
    "？？",
    "...",
    "喂喂",
    "新年快乐",
    "祝你们生意兴隆",
    "thanks a lot",
    "thank u",
]
CORES["chitchat"] = CORES["chitchat"] + CHITCHAT_MORE
COMPLAINT_TOPICS = (
    "扣款扣错了",
    "放款拖了一个星期",
    "还款了还算我逾期",
    "利息收得比合同高",
    "提前还款收了违约金",
    "额度无缘无故被关了",
    "征信被报错了",
    "客服一直推诿",
    "结清证明迟迟不给",
    "乱扣服务费",
)
COMPLAINT_ENDS = (
    " 我要投诉",
    " 我要投诉你们",
    " 投诉",
    " 要求给个说法 我要投诉",
    " 我要去监管投诉",
    " 必须投诉",
)
for _topic in COMPLAINT_TOPICS:
    for _end in COMPLAINT_ENDS[:3]:
        CORES["complaint"].append(_topic + _end)


CONFUSED: dict[str, list[str]] = {
    "repay_amount": [
        "这期利息是多少钱",
        "本期还款里利息占多少",
        "这个月本金和利息各多少",
        "还款计划里每期要还多少",
        "{p}下期要还的钱是多少",
        "这个月还款金额包括利息吗",
        "还款额里面多少是本金",
        "还差几块钱没还",
    ],
    "loan_apply": [
        "提现失败",
        "提现一直失败",
        "放款失败 钱没到",
        "显示已放款 卡里没有钱",
        "借款提示银行卡异常 放款失败",
        "借的钱什么时候打到卡里",
        "借款到账了吗",
        "借款申请取消了怎么办",
        "怎么看借款有没有通过",
        "电话审核没接到怎么办",
    ],
    "account_change": [
        "怎么绑卡",
        "添加银行卡",
        "绑定新的银行卡",
        "还款卡在哪里设置",
        "默认还款卡怎么改",
        "扣款顺序怎么改",
        "银行卡过期了要重新绑定吗",
        "换手机了 怎么登录原来的账号",
    ],
    "other": [
        "你们公司在哪个城市",
        "你们是哪家公司",
        "你们老板是谁",
        "你们有线下门店吗",
        "你们公司是国企吗",
        "你们营业执照给我看看",
        "你们上市了吗",
        "app闪退怎么办",
        "app打不开",
        "怎么下载你们的app",
        "怎么修改头像",
    ],
}
for _intent, _extra in CONFUSED.items():
    CORES[_intent] = CORES[_intent] + _extra


# Context a borrower puts before the question.
STORIES = (
    "我上个月刚换了工作 工资推迟发了 ",
    "之前一直按时还的 ",
    "我借了一笔12期的 现在还到第5期 ",
    "我是外卖骑手 收入不稳定 ",
    "早上收到一条短信 ",
    "昨天晚上看了半天app也没弄明白 ",
    "我老公用我的手机借的 ",
    "我在外地出差 ",
    "第一次用这个 ",
    "刚才打了客服电话没人接 ",
    "孩子下个月要交学费 ",
    "我用的是{p} ",
)
PREFIXES = (
    "",
    "",
    "",
    "你好 ",
    "您好，",
    "请问",
    "问一下 ",
    "问下",
    "客服 ",
    "那个",
    "hello ",
    "亲 ",
    "麻烦问下",
    "喂 ",
    "你们这边",
    "想问问你们 ",
    "我想知道",
    "说实话 ",
    "到底",
    "你们公司",
    "我问一下哈 ",
    "老师 ",
)
SUFFIXES = (
    "",
    "",
    "",
    "?",
    "？",
    "呢",
    "啊",
    "呀",
    "谢谢",
    " 谢谢了",
    "急",
    " 在线等",
    "。",
    "哈",
    "🙏",
    "😅",
    "...",
    "吧",
    "来着",
    "？？",
    " 说清楚点",
    " 你们给个准话",
    " 麻烦了",
    "嘛",
    " 是吧",
    "😊",
    " 好吗",
)
TYPOS = {
    "还款": ("换款", "还宽", "hk"),
    "逾期": ("预期", "于期", "yq"),
    "征信": ("征性", "正信", "zx"),
    "罚息": ("罚西", "发息"),
    "利息": ("利西", "lx"),
    "额度": ("额渡", "ed"),
    "下款": ("下宽",),
    "提前还款": ("提前换款", "tqhk"),
    "客服": ("kf", "客付"),
    "人工": ("rg", "人攻"),
    "借款": ("jk", "借宽"),
    "多少": ("dd少", "多小"),
    "怎么": ("咋", "怎末", "zm"),
    "什么": ("啥", "神马", "sm"),
    "银行卡": ("yhk", "银行k"),
    "可以": ("可已", "ky"),
    "手续费": ("手序费",),
    "结清": ("jieqing", "节清"),
}
CANTONESE = (
    ("什么", "咩"),
    ("怎么", "点样"),
    ("他们", "佢哋"),
    ("我们", "我哋"),
    ("你们", "你哋"),
    ("了", "咗"),
    ("不是", "唔系"),
    ("不", "唔"),
    ("的", "嘅"),
    ("没有", "冇"),
    ("没", "冇"),
    ("是", "系"),
    ("在", "喺"),
    ("这个", "呢个"),
    ("这", "呢"),
    ("那个", "嗰个"),
    ("看", "睇"),
    ("给", "畀"),
    ("吗", "咩"),
    ("说", "讲"),
    ("要", "要"),
)
ANXIOUS = (
    "急死了 ",
    "好担心 ",
    "我好慌 ",
    "求求你们 ",
    "怎么办啊 ",
    "睡不着觉 ",
    "我真的很怕 ",
    "着急 ",
    "快崩溃了 ",
    "会不会很严重 ",
    "第一次遇到这种事 心里没底 ",
    "我很焦虑 ",
    "怕影响工作 ",
    "明天就到期了 ",
    "help 😭 ",
    "😰 ",
)
ANXIOUS_TAIL = (" 怎么办啊", " 急", " 好怕", " 救救我", "😭😭", " 在线等 很急", " 会不会有事啊", " 求回复")
ANGRY = (
    "搞什么？？？ ",
    "你们搞什么鬼 ",
    "骗人的吧 ",
    "你们是高利贷吗 ",
    "呵呵 ",
    "真行啊你们 ",
    "什么破app ",
    "垃圾平台 ",
    "你们有病吧 ",
    "坑人啊 ",
    "这不是抢钱吗 ",
    "凭什么 ",
    "我真是服了 ",
    "太离谱了 ",
    "气死我了 ",
    "有没有人管管 ",
    "wtf ",
    "骗子公司 ",
    "你们是不是黑社会 ",
    "一天到晚扣钱扣钱 ",
    "你们系统真厉害啊 ",
    "无语 ",
    "玩我呢 ",
    "能不能干点人事 ",
    "睁眼说瞎话 ",
    "吸血鬼 ",
    "脑子有问题吗 ",
    "😡😡 ",
    "🤬 ",
    "你哋搞乜鬼 ",
    "收皮啦 ",
    "仆街 ",
    "痴线 ",
    "冇天理 ",
    "顶你个肺 ",
    "智障系统 ",
    "脑残 ",
    "废物客服 ",
    "狗屁 ",
    "好棒棒哦 ",
    "你们可真会做生意 ",
    "又来了 ",
    "tmd ",
    "nmsl ",
    "sb平台 ",
    "what the hell ",
    "are you kidding me ",
    "seriously?? ",
    "this is a scam company ",
    "you guys are crooks ",
    "你们还是人吗 ",
    "说好的呢？ ",
    "到底有完没完 ",
    "我真的会谢 ",
)
ANGRY_TAIL = (
    "？？？",
    "???",
    "！！！",
    " 骗人",
    " 搞什么啊",
    " 你们是高利贷吗",
    " 我要去12378投诉你们",
    " 等着被投诉吧",
    " 我要曝光你们",
    " 去黑猫投诉",
    " 不解决我就报警",
    " 真是好系统啊 佩服",
    " 服了",
    " 吃相太难看",
    " 你们还要不要脸",
    " 垃圾",
    " 真是绝了",
    " 😡",
    " 还让不让人活了",
    " 有毛病",
    " 无语死了",
    " 傻x系统",
    " 呵呵呵",
    " 真有你们的",
    " what a joke",
    " 这事没完",
    " 走着瞧",
    " 等着吃官司吧",
    " 你们良心不会痛吗",
    " 效率真高啊 佩服佩服",
    " 说人话行不行",
    " 别装死",
    " 答非所问",
    " 我已经忍很久了",
    " 我要找媒体",
    " 去银保监会见吧",
    " 你们等着",
    " 搞乜嘢",
    " 系咪玩嘢",
    " ridiculous",
    " 什么玩意儿",
    "！？",
    " ???!!!",
    " 你们听不懂吗",
    " 说了多少遍了",
    " 耳朵聋了吗",
    " 我说的不够清楚吗",
    " 还要我说几遍",
    " are you kidding me",
    " this is ridiculous",
    " wtf",
    " unbelievable",
    " 搞笑呢",
    " 离谱",
    " 还是人吗",
    " 我真是无语了",
    " 你们怎么回事",
    " 什么鬼",
    " 丢人",
    " 太坑了",
    " 你们就是骗子",
    " 真恶心",
    " 一群骗子",
    " 好意思吗",
    " 搞什么飞机",
    " 黑心平台",
    "？？？？？",
    "!!!!",
)
# Anger told as a whole sentence (intent from the rest).
SARCASM = {
    "repay_failed": [
        "厉害了 钱都扣了还说我没还 你们系统是摆设吗",
        "我还了钱你们还天天发短信 是不是想多收一份",
        "扣了两次钱 是不是想钱想疯了",
    ],
    "penalty_fee": ["罚息比本金还多 你们是高利贷吧", "晚一天罚这么多 抢钱都没这么快"],
    "interest_rate": ["这利息你们是高利贷吗？？？", "利息这么高还好意思说低息 骗鬼呢"],
    "complaint": [
        "客服就会复制粘贴 有什么用",
        "问了十遍没人解决 你们客服是摆设吗",
        "真是垃圾服务 我要投诉到底",
    ],
    "collection_complaint": ["天天打电话给我家里 你们是黑社会吗", "催收骂我全家 你们还有没有王法"],
    "loan_apply": ["审核审核审核 审了一个星期 搞什么", "说好的秒到账呢 骗人"],
    "limit": ["按时还款额度还降 你们玩我呢", "额度说没就没 耍猴呢"],
    "human": [
        "别让机器人回复了 听不懂人话吗 叫人来",
        "机器人答非所问 赶紧转人工！！",
        "你这破机器人有什么用 叫人",
    ],
    "repay_how": ["还个钱都这么费劲 你们这app谁设计的", "想还钱都还不进去 你们是不想要钱了吗"],
    "repay_date": ["说好的15号扣 13号就扣了 什么意思", "还款日随便改 你们说了算是吧"],
    "repay_amount": ["这期凭空多出一百块 当我傻吗", "账单乱七八糟 谁看得懂 坑谁呢"],
    "early_repay": ["提前还还要收钱 还有天理吗", "我提前还你们还不乐意 有病吧"],
    "overdue_consequence": ["晚一天就威胁我 至于吗", "逾期一天就这样那样 吓唬谁呢"],
    "credit_report": ["乱给我上征信 我要告你们", "征信被你们搞花了 你们负得起责吗"],
    "hardship": ["我都说了没钱 你们逼死我算了", "让我缓几天都不行 有没有人性"],
    "account_change": ["换个卡折腾了一下午 什么垃圾流程", "改个手机号要这么多步骤 你们有毛病吧"],
    "settle_proof": ["开个证明拖了半个月 你们在干嘛", "结清证明要了三次还不给 什么意思"],
    "verify_official": ["天天有人冒充你们 你们管不管", "你们的号码到底是哪个 能不能说清楚"],
}
HARD_CALM = (  # words the angry model must not overread: questions about complaints, scams, interest
    ("投诉电话是多少", "complaint"),
    ("这条短信是不是骗人的", "verify_official"),
    ("你们不是高利贷吧 利率是多少", "interest_rate"),
    ("怎么投诉催收", "collection_complaint"),
    ("我想问一下 罚息能不能少一点", "penalty_fee"),
    ("请问什么时候可以恢复额度", "limit"),
    ("谢谢你 你们服务挺好的", "chitchat"),
    ("我有点急 明天能到账吗", "loan_apply"),
    ("搞不懂怎么还款 能教我吗", "repay_how"),
    ("什么是等额本息", "interest_rate"),
    ("12378是什么电话", "other"),
)

# --- scam stories: a contact, a script, what the borrower did or asks ---------------------------
SCAM_CONTACT = (
    "昨天有人打电话自称是你们客服 ",
    "有个自称{p}官方的人加了我微信 ",
    "接到一个电话说是银保监会的 ",
    "有人打来说是公安局的警官 ",
    "刚才一个陌生号码打来 说我是你们平台的用户 ",
    "我在网上看到一个广告 ",
    "抖音上有人私信我 ",
    "一个qq群里的老师说 ",
    "有人拉我进了一个{p}客服群 ",
    "收到短信说我的{p}账户异常 ",
    "对方说他是法院的工作人员 ",
    "一个自称律师的人联系我 ",
    "有個自稱客服嘅人打畀我 ",
    "有人冒充你们 ",
    "朋友介绍了一个中介 ",
)
SCAM_SCRIPT = (
    "让我下载一个会议app开屏幕共享 他帮我操作",
    "叫我打开腾讯会议共享屏幕 说要核对资料",
    "说我的资金要转到安全账户才能保住",
    "让我把钱转到监管账户 说核查完就退回来",
    "说我的借款被冻结了 要交5000解冻费才能放款",
    "说我的银行卡号填错了资金冻结 要先转钱解冻",
    "说交2000保证金就能放款",
    "说可以帮我修复征信 把逾期记录删掉 收费3000",
    "说花钱就能帮我办停息挂账 先交服务费",
    "说能帮我洗白征信 收1500的手续费",
    "说我以前开过校园贷账户要注销 不然影响征信",
    "说我的额度要清零 让我把借出来的钱转给他",
    "说我涉嫌洗钱 要把钱转到安全账户配合调查",
    "给我发了个链接下载一个假的{p}app 让我在上面借款",
    "说要刷银行流水证明还款能力 让我先转一笔钱",
    "让我把收到的验证码告诉他",
    "说我被起诉了 发来一张法院传票 让我转账和解",
    "说我的会员要关闭不然每月扣费 让我按他说的操作",
    "说可以降低利率 但要先交手续费",
    "让我在几个平台都借一遍 把钱转到指定账户验资",
    "说我中了奖 要先交税才能领",
    "说帮我代还 先把钱转给他",
)
SCAM_TAIL = (
    ("", "fraud_report"),
    (" 我已经转了3000过去", "fraud_report"),
    (" 现在联系不上他了", "fraud_report"),
    (" 我是不是被骗了", "fraud_report"),
    (" 钱已经打过去了怎么办", "fraud_report"),
    (" 这是你们的人吗", "verify_official"),
    (" 这是真的吗", "verify_official"),
    (" 是你们官方的吗", "verify_official"),
    (" 我还没转 你们有这个要求吗", "verify_official"),
    (" 我照做了 现在钱没了", "fraud_report"),
)
SCAM_ENGLISH = (
    "a guy said he was from your company and asked me to install a screen sharing app, now my money is gone",
    "someone told me to move my funds to a safe account to protect them",
    "they said my loan is frozen and i must pay an unfreeze fee first",
    "a person on telegram offered to fix my credit record for a fee",
    "got a call from police saying i am involved in money laundering, asked me to transfer money",
    "your customer service on wechat asked for my verification code",
)
SCAM_CANTONESE = (
    "有人打嚟話係你哋客服 叫我開屏幕共享 我跟住做咗 而家啲錢冇晒",
    "佢話我嘅賬戶被凍結 要畀錢先解凍 係咪真㗎",
    "有個人話可以幫我修復征信 收咗我2000蚊",
    "佢哋叫我轉錢去安全賬戶 我驚到唔知點算",
    "我收到法院嘅短訊話要起訴我 叫我即刻轉賬 係唔係你哋",
    "有個自稱公安嘅人話我涉嫌洗黑錢 叫我唔好同人講",
    "個客服叫我下載咗一個app 佢遙距控制我部手機",
)
# Not scams though they name the same things: the borrower asks, warns, or it is the lender's own process.
SCAM_NEGATIVES = (
    ("你们会让我共享屏幕吗", "verify_official"),
    ("我知道不能开屏幕共享 放心", "chitchat"),
    ("征信能修复吗", "credit_report"),
    ("征信上的逾期记录能消除吗", "credit_report"),
    ("停息挂账怎么申请", "hardship"),
    ("可以停息分期吗 我确实还不上", "hardship"),
    ("银行卡被冻结了 怎么换卡还款", "account_change"),
    ("额度被冻结了怎么办", "limit"),
    ("你们的对公账户是哪个", "verify_official"),
    ("放款前需要交保证金吗", "loan_apply"),
    ("验证码一直收不到", "loan_apply"),
    ("提前还款要交手续费吗", "early_repay"),
    ("你们的客服会加我微信吗", "verify_official"),
    ("我收到的短信说还款日到了 是你们发的吗", "verify_official"),
    ("逾期会被起诉吗", "overdue_consequence"),
    ("你们会发律师函吗", "overdue_consequence"),
    ("注销账户怎么操作", "account_change"),
    ("解冻额度要多久", "limit"),
    ("公安局开无犯罪证明要还清吗", "settle_proof"),
    ("会议记录", "other"),
    ("转账还款到对公账户要备注什么", "repay_how"),
    ("手续费是多少", "interest_rate"),
)

SCAM_CONTACT_MORE = (
    "今天下午接到一个陌生电话 ",
    "有个女的打电话给我 ",
    "一个自称{p}风控部的 ",
    "微信上一个头像是你们logo的人 ",
    "有个号码是+86开头的 ",
    "刚刚有个视频电话 对方穿着警服 ",
    "小红书上有个博主说 ",
    "我在贴吧找了个代办 ",
    "有人在群里发消息 ",
    "前几天有个反催收的人加我 ",
    "对方知道我的身份证号和借款金额 ",
    "有个人用你们公司的名义 ",
    "一个陌生人发短信给我 ",
    "对方自称是{p}的理赔专员 ",
    "一个网贷中介 ",
    "有个说是我领导的人 ",
)
SCAM_SCRIPT_MORE = (
    "让我先交一笔工本费才能放款",
    "说我的征信有问题 交钱可以帮我把贷款额度激活",
    "让我下载一个叫云会议的软件 开着摄像头和屏幕",
    "说我的账户涉嫌违规 要做资金清查 把钱转到他们的核查账户",
    "说我的账号被冻结了 要往里面充钱刷流水才能解冻",
    "说帮我代理投诉 可以减免所有利息 先交三成服务费",
    "说有内部渠道能帮我停息挂账 要先付定金",
    "说可以帮我把逾期记录从征信上删掉 先交押金",
    "拉我进一个刷单群 先返了几十块 后面要我垫钱",
    "说快递丢了要理赔 让我打开备用金借出来",
    "说我买的东西有质量问题要退款 让我按他说的操作借款",
    "让我在一个投资app里充钱 说稳赚",
    "说我的学生账户没注销 每年要扣钱 要我配合注销",
    "让我把银行卡的钱转到一个叫国家安全账户的地方",
    "发了一份盖章的逮捕令 说不配合就抓我",
    "说我的医保卡被盗刷了 转给公安处理",
    "说我是他们的用户要把借款利率调低 要先交保证金",
    "让我把手机上的验证码念给他听",
    "让我下载一个app 里面显示借款成功但提现要交解冻金",
    "说我流水不够 要往指定卡打钱证明还款能力",
    "说能帮我申请到二十万的低息贷款 要先交会员费",
    "说可以帮我协商减免 让我把还款打到他个人卡上",
    "冒充我领导 让我先帮他转一笔钱",
    "说帮我把网贷都清掉 收一半的钱",
)
SCAM_TAIL_MORE = (
    (" 我已经按他说的做了", "fraud_report"),
    (" 我转了两次一共八千", "fraud_report"),
    (" 被骗了好几万", "fraud_report"),
    (" 后来就联系不上了", "fraud_report"),
    (" 现在怎么办", "fraud_report"),
    (" 我应该相信吗", "verify_official"),
    (" 你们有这个业务吗", "verify_official"),
    (" 我要不要转", "verify_official"),
    (" 他还在催我交钱", "fraud_report"),
    (" 能帮我报警吗", "fraud_report"),
)
SCAM_STORIES = (
    "我被骗了 对方说是你们客服 让我开了屏幕共享 卡里的钱全被转走了",
    "上当了 那个人说交了保证金就放款 交了三次钱都没放",
    "给了那个修复征信的中介三千块 结果什么都没改",
    "找了个代理说能停息挂账 交了五千他就跑了",
    "按照那个客服的指导在几个app上借了钱转过去 现在欠了一屁股债",
    "我是不是被骗了 对方让我把钱存到安全账户 说过几天还给我",
    "一个所谓的检察官说我卷入了洗钱案 让我转账证明清白",
    "收到一个叫你们名字的app的短信 下载后借款要交解冻费",
    "群里的老师带我们投资 说可以借网贷来充值 现在提不出来了",
    "对方开视频给我看警官证 让我把所有存款转过去",
    "我妈接到电话说是法院的 说她欠钱要被起诉 让她转账",
    "那个人说他能帮我消掉逾期 要我先付一半费用",
    "有人在网上说可以反催收 帮我全部停催 收了我两千",
    "冒充你们的客服说我的会员到期要扣钱 教我关闭 结果让我转账",
    "网上贷款平台说我银行卡号填错了 资金被冻结 要交钱解冻",
    "有人打电话说我开通了京东金条百万保障 要取消 让我借钱转给他",
    "对方让我开了腾讯会议共享屏幕 然后我的验证码他都看到了",
    "骗子让我办了张新卡 说要验资 我把钱转进去就被转走了",
    "一个自称民警的说我的身份被盗用 要把资金转到监管账户保护",
    "之前找人包装资料贷款 交了包装费 贷款没下来人也没了",
)
SCAM_STORIES_TRAD = (
    "有人自稱係你哋嘅客服 叫我開屏幕共享 我個戶口啲錢被轉走咗",
    "對方話我嘅貸款凍結咗 要交解凍費先可以提現 我交咗兩次",
    "有個中介話可以幫我修復征信 收咗我三千蚊 而家搵唔到佢",
    "佢話可以幫我停息掛賬 叫我先畀服務費",
    "一個自稱法院嘅人打畀我 話我被起訴 要即刻轉賬和解",
    "有個客服群叫我將錢轉去監管賬戶驗證身份",
    "有人冒充公安話我涉及洗黑錢 要我將存款轉去安全賬戶",
    "我喺網上搵咗個貸款app 借款成功但係話我卡號錯咗要畀錢解凍",
    "對方叫我下載一個會議軟件 仲叫我打開共享螢幕",
    "有個人話幫我代還網貸 收咗我一萬蚊 之後唔覆我",
    "有人自稱是你們的客服 叫我把錢轉到安全帳戶",
    "對方說要交保證金才能放款 我已經交了",
    "網上說可以幫忙洗白徵信 收了我兩千塊",
)


ONE_CHAR = (
    ("?", "chitchat"),
    ("？？", "chitchat"),
    ("在", "chitchat"),
    ("嗯", "chitchat"),
    ("1", "chitchat"),
    ("人", "human"),
    ("0", "human"),
    ("👍", "chitchat"),
    ("哦", "chitchat"),
)


def product(rng: random.Random) -> str:
    return rng.choice(PRODUCTS) if rng.random() < 0.6 else ""


def fill(core: str, rng: random.Random) -> str:
    return core.replace("{p}", product(rng))


def typo(text: str, rng: random.Random) -> str:
    keys = [k for k in TYPOS if k in text]
    if not keys:
        return text
    key = rng.choice(keys)
    return text.replace(key, rng.choice(TYPOS[key]), 1)


def cantonese(text: str) -> str:
    for mandarin, canto in CANTONESE:
        text = text.replace(mandarin, canto)
    return _s2t.convert(text)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


def pinyin_word(text: str, rng: random.Random) -> str:
    keys = [k for k in TYPOS if k in text]
    if not keys:
        return text
    key = rng.choice(keys)
    spelled = "".join(lazy_pinyin(key)) if rng.random() < 0.5 else "".join(p[0] for p in lazy_pinyin(key))
    return text.replace(key, spelled, 1)


def styled(text: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.12:
        text = _s2t.convert(text)
    elif roll < 0.22:
        text = cantonese(text)
    elif roll < 0.34:
        text = pinyin_word(text, rng)
    if rng.random() < 0.3:
        text = typo(text, rng)
    if rng.random() < 0.3:
        text = text.replace(" ", "")
    if rng.random() < 0.06:
        text = fullwidth(text)
    return text


def framed(text: str, rng: random.Random) -> str:
    if rng.random() < 0.12:
        text = fill(rng.choice(STORIES), rng) + text
    return rng.choice(PREFIXES) + text + rng.choice(SUFFIXES)


def with_emotion(text: str, emotion: str, rng: random.Random) -> str:
    if emotion == "anxious":
        return rng.choice(ANXIOUS) + text if rng.random() < 0.5 else text + rng.choice(ANXIOUS_TAIL)
    if emotion == "angry":
        roll = rng.random()
        if roll < 0.4:
            return rng.choice(ANGRY) + text
        if roll < 0.8:
            return text + rng.choice(ANGRY_TAIL)
        return rng.choice(ANGRY) + text + rng.choice(ANGRY_TAIL)
    return text


def record(text: str, intent: str, emotion: str = "calm", scam: bool = False) -> dict[str, object]:
    return {"text": text.strip() or text, "intent": intent, "emotion": emotion, "scam": scam}


def intent_rows(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for intent, cores in CORES.items():
        for _ in range(PER_INTENT):
            emotion = rng.choices(("calm", "anxious", "angry"), (0.7, 0.15, 0.15))[0]
            if intent == "chitchat" and emotion == "angry":
                emotion = "calm"
            text = styled(framed(fill(rng.choice(cores), rng), rng), rng)
            rows.append(record(with_emotion(text, emotion, rng), intent, emotion))
        for english in EN[intent]:
            rows.append(record(english, intent))
            rows.append(record(rng.choice(PREFIXES[3:6]) + english, intent))
            rows.append(record(with_emotion(english, "angry", rng), intent, "angry"))
            if intent != "chitchat":
                angry_english = (
                    rng.choice(("wtf ", "seriously ", "ridiculous, "))
                    + english
                    + rng.choice(("???", "!!", "?!"))
                )
                rows.append(record(angry_english, intent, "angry"))
        for line in SARCASM.get(intent, []):
            for _ in range(4):
                rows.append(record(styled(line, rng), intent, "angry"))
    for text, intent in HARD_CALM:
        for _ in range(6):
            rows.append(record(styled(framed(text, rng), rng), intent, "calm"))
    for text, intent in ONE_CHAR:
        rows += [record(text, intent)] * 3
    rows += [record(text, "other") for text in gibberish(rng, 150)]
    return rows


def gibberish(rng: random.Random, count: int) -> list[str]:
    """Keyboard mashes and stray letters: not a question (so not pinyin initials either)."""
    letters = "qwertyuiopasdfghjklzxcvbnm"
    out = []
    for _ in range(count):
        words = ["".join(rng.choice(letters) * rng.choice((1, 1, 2, 4)) for _ in range(rng.randint(2, 6)))]
        if rng.random() < 0.6:
            words.append("".join(rng.choice(letters) for _ in range(rng.randint(1, 4))))
        out.append(" ".join(words))
    return out


def combined_rows(rng: random.Random) -> list[dict[str, object]]:
    """Two questions in one message: labelled with the first, the one asked about."""
    rows = []
    intents = [i for i in CORES if i not in {"chitchat", "other"}]
    for _ in range(400):
        first, second = rng.sample(intents, 2)
        if {first, second} & {"human", "complaint", "collection_complaint", "fraud_report"}:
            continue
        a, b = fill(rng.choice(CORES[first]), rng), fill(rng.choice(CORES[second]), rng)
        joiner = rng.choice(("，还有", " 另外", "？顺便问下", " 还有就是", "。再问一下"))
        rows.append(record(styled(a + joiner + b, rng), first))
    for _ in range(300):
        intent = rng.choice(intents)
        text = (
            rng.choice(("你好", "在吗", "您好", "hi"))
            + rng.choice(("，", " ", "？"))
            + fill(rng.choice(CORES[intent]), rng)
        )
        rows.append(record(styled(text, rng), intent))
    return rows


def scam_rows(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    contacts, scripts, tails = (
        SCAM_CONTACT + SCAM_CONTACT_MORE,
        SCAM_SCRIPT + SCAM_SCRIPT_MORE,
        SCAM_TAIL + SCAM_TAIL_MORE,
    )
    for _ in range(2600):
        tail, intent = rng.choice(tails)
        contact, script = fill(rng.choice(contacts), rng), fill(rng.choice(scripts), rng)
        if rng.random() < 0.2:  # the script first, who it was after
            text = script.removeprefix("说").removeprefix("让我") + " " + contact.strip() + tail
        elif rng.random() < 0.15:  # no contact named
            text = "对方" + script + tail
        else:
            text = contact + script + tail
        emotion = rng.choices(("calm", "anxious", "angry"), (0.45, 0.45, 0.1))[0]
        text = (
            with_emotion(styled(text, rng), emotion, rng)
            if emotion != "angry"
            else text + rng.choice(ANGRY_TAIL)
        )
        rows.append(record(text, intent, emotion, scam=True))
    for line in SCAM_STORIES:
        for _ in range(10):
            rows.append(record(styled(framed(line, rng), rng), "fraud_report", "anxious", True))
    for line in SCAM_STORIES_TRAD:
        for _ in range(6):
            rows.append(record(typo(line, rng) + rng.choice(SUFFIXES), "fraud_report", "anxious", True))
    for line in SCAM_CANTONESE:
        for _ in range(8):
            rows.append(
                record(typo(line, rng) if rng.random() < 0.3 else line, "fraud_report", "anxious", True)
            )
    for line in SCAM_ENGLISH:
        for _ in range(4):
            rows.append(record(rng.choice(("", "hi ", "help ")) + line, "fraud_report", "anxious", True))
    for text, intent in SCAM_NEGATIVES:
        for _ in range(10):
            rows.append(record(styled(framed(text, rng), rng), intent, "calm", False))
    return rows


# --- issue 19, second round: scam stories as real borrowers tell them, their hard negatives, and
# rhetorical anger. Written in other frames than the development set evaluation/dev/assistant.jsonl.
LIFT_WHO = (
    "一个说是{p}风控专员的人",
    "自称{p}官方客服的小姐姐",
    "企业微信上一个叫客户经理的",
    "一个自称银保监会消保局的",
    "自称金融监管局工作人员的男的",
    "一个说是派出所民警的",
    "一个说是反诈中心的",
    "淘宝店的客服",
    "快递公司客服说包裹丢了 然后",
    "说是京东金融客服的",
    "一个自称网贷清退小组的",
    "说是人民银行征信中心的",
    "一个自称律师事务所的",
    "贷款中介",
    "游戏里认识的网友",
    "投资群里的老师",
    "冒充我大学辅导员的人",
    "自称互联网金融协会的",
    "网上搜到的一个客服电话 接电话的人",
    "一个用你们logo当头像的人",
    "一个客服",
    "对面",
    "他们",
    "那边的人",
    "一个00开头的境外号码",
    "自称支付宝客服的",
    "一个说是抖音客服的",
    "说是保险公司的",
    "一个自称{p}催收部的人",
    "short video 上的贷款顾问",
)
LIFT_ASK = (
    "让我把余额转到他提供的安全账户保管",
    "说我账户异常要冻结 让我转钱到监管账户验证",
    "说我的账户被锁了 交 1000 解锁费就能恢复",
    "说我大学时开的校园贷没注销 要配合注销 否则影响征信",
    "要帮我注销学生贷款记录 让我先把几个平台的额度借出来",
    "说帮我取消校园贷资格 不然每个月扣钱",
    "说多收了我的利息要退给我 让我按提示操作借款",
    "说买的东西有问题要理赔退款 让我扫码填银行卡和验证码",
    "说能帮我修复征信 删掉逾期 先交服务费",
    "说有关系可以洗白不良记录 收 5000 一条",
    "让我下载会议软件开屏幕共享 他远程帮我操作",
    "让我开共享屏幕 说要指导我退款",
    "要我把收到的短信验证码发给他核对身份",
    "说是核实身份 让我报一下刚收到的六位数字",
    "说我贷款批了 但要先交 20% 的保证金才放款",
    "说放款前要交工本费和公证费",
    "说我资质不够 交钱包装一下就能下款",
    "说可以帮我提额到五万 但要先刷流水",
    "说可以把利率降到 3.6% 先交调息手续费",
    "说我开通了会员 每月自动扣费 要我配合关闭",
    "说老 app 停用了 让我去一个新 app 还款",
    "说可以代还我的网贷 让我把钱先打给他",
    "说我被起诉了 今天转钱到私人账户就撤诉",
    "说我中奖了 要先交个人所得税才能领",
    "说网贷清退可以退回利息 要先借一笔验证流水",
    "说我的征信有污点 要配合消除 让我转账",
    "说我卡号填错了贷款被冻结 要交解冻金",
    "说我涉嫌洗钱 要把钱转到国家安全账户配合调查",
    "发了一个链接 让我输入银行卡号、密码和验证码",
    "说保单要退保 让我先在几个app上借钱周转",
    "冒充我领导 让我帮忙先垫付一笔钱",
    "让我关掉手机的来电 不要告诉任何人 然后按他说的转账",
)
LIFT_END = (
    ("", "fraud_report"),
    (" 我照着做了 钱转过去了", "fraud_report"),
    (" 我已经付了两次 他还要", "fraud_report"),
    (" 转完就被拉黑了", "fraud_report"),
    (" 我损失了一万多", "fraud_report"),
    (" 卡里的钱被转走了", "fraud_report"),
    (" 我现在很慌 该怎么办", "fraud_report"),
    (" 我是不是遇到骗子了", "fraud_report"),
    (" 刚报了警 你们能帮我冻结吗", "fraud_report"),
    (" 这是你们公司的吗", "verify_official"),
    (" 真的假的", "verify_official"),
    (" 你们有这种操作吗", "verify_official"),
    (" 我还没操作 先问问你们", "verify_official"),
    (" 能信吗", "verify_official"),
    (" 是官方的吗", "verify_official"),
)
# The same scam words as borrowers spell them: pinyin, initials, typos, English.
SCAM_SPELLINGS = {
    "安全账户": ("anquan zhanghu", "aqzh", "安全帐户", "安全賬護", "safe account"),
    "校园贷": ("xiaoyuandai", "xyd", "校圆贷", "校园代", "student loan"),
    "验证码": ("yanzhengma", "yzm", "验正码", "驗証碼", "otp", "verification code"),
    "屏幕共享": ("pingmu gongxiang", "屏幕分享", "共亨屏幕", "screen share", "screen sharing"),
    "共享屏幕": ("gongxiang pingmu", "分享屏幕", "share screen"),
    "冻结": ("dongjie", "冻洁", "凍結", "frozen"),
    "注销": ("zhuxiao", "住销", "註銷", "cancel"),
    "征信": ("zx", "zhengxin", "征性", "credit record"),
    "转账": ("zz", "转帐", "zhuanzhang", "transfer"),
    "保证金": ("baozhengjin", "保正金", "deposit"),
    "解冻": ("jiedong", "解凍", "unfreeze"),
    "监管账户": ("监管帐户", "jianguan zhanghu"),
    "会议软件": ("会议app", "meeting app", "腾讯会仪"),
}
LIFT_EMOJI = ("😭", "😰", "🙏", "😱", "💔", "❓", "⚠️", "😢", "🆘")
LIFT_ENGLISH_WHO = (
    "someone claiming to be your customer service",
    "a guy who said he was from the bank",
    "a lady from 'the platform'",
    "a caller saying he is a police officer",
    "an agent on wechat",
    "someone from the 'credit repair center'",
)
LIFT_ENGLISH_ASK = (
    "asked me to move my money into a safe account",
    "told me to share my screen so he could fix my account",
    "asked for the otp code i got by sms",
    "said my account is frozen and i need to pay an unfreeze fee",
    "offered to clean my credit record for 3000 yuan",
    "said i must cancel my old student loan account or my credit gets hurt",
    "said my loan is approved but i need to pay a deposit first",
    "wanted me to download an app and borrow from it to get a refund",
)
LIFT_ENGLISH_END = (
    ("", "fraud_report"),
    (" and i already paid", "fraud_report"),
    (", now he blocked me", "fraud_report"),
    (". is this really you?", "verify_official"),
    (". is that legit?", "verify_official"),
    (" 我已经转了", "fraud_report"),
    (" 是你们吗", "verify_official"),
)
# Hard negatives: the same words with no impostor in the story.
LIFT_NUMBERS = ("4008-123-456", "95188", "021-5566 7788", "1065 9000", "0755-12345678", "17012345678")
LIFT_NOT_SCAM = (
    ("{n}这个号码是你们的吗", "verify_official"),
    ("刚才{n}打给我 说是你们的 请问是官方号码吗", "verify_official"),
    ("{n}给我发短信提醒还款 是你们发的吗", "verify_official"),
    ("工号{i}的客服是你们的员工吗", "verify_official"),
    ("一个工号{i}的人说是你们催收 是真的吗", "verify_official"),
    ("你们的官方客服电话是多少", "verify_official"),
    ("怎么确认来电的是不是你们", "verify_official"),
    ("你们有没有可能要求我{a}", "verify_official"),
    ("你们的工作人员会要求我{a}吗", "verify_official"),
    ("官方会让客户{a}吗 确认一下", "verify_official"),
    ("听说有骗子冒充客服让人{a} 你们会这么做吗", "verify_official"),
    ("网上说有人冒充你们让人{a} 我应该注意什么", "verify_official"),
    ("怎么防范冒充你们的骗子", "verify_official"),
    ("如何辨别诈骗电话", "verify_official"),
    ("有没有防诈骗的提示", "verify_official"),
    ("我爸老是接到贷款诈骗电话 怎么识别", "verify_official"),
    ("我知道不能给别人验证码 放心吧", "chitchat"),
    ("你们提醒得对 我不会转账给陌生人的", "chitchat"),
    ("还款是转账到哪个账户", "repay_how"),
    ("可以用银行转账还款吗", "repay_how"),
    ("对公账户还款要备注借款编号吗", "repay_how"),
    ("还款时验证码一直收不到", "repay_failed"),
    ("绑卡的时候短信验证码没收到", "account_change"),
    ("我的银行卡被冻结了 要换一张卡还款", "account_change"),
    ("银行卡被司法冻结 扣款失败了", "repay_failed"),
    ("我的额度被冻结了 什么时候恢复", "limit"),
    ("怎么注销我在你们这的账户", "account_change"),
    ("还清了想注销账号", "account_change"),
    ("征信上的逾期能修复吗", "credit_report"),
    ("逾期记录会保留几年", "credit_report"),
    ("放款要交什么费用吗", "loan_apply"),
    ("借款需要先交保证金吗", "loan_apply"),
    ("提前结清的话手续费收多少", "early_repay"),
    ("在商城买的东西怎么申请退款", "other"),
    ("退货的钱什么时候退回来", "other"),
    ("店里扫码付款失败了", "other"),
    ("app屏幕一直白屏", "other"),
    ("会员费怎么收的", "interest_rate"),
    ("提额需要什么条件", "limit"),
    ("能不能降低一点利率", "interest_rate"),
    ("流水不够能借吗", "loan_apply"),
    ("学生能借款吗", "loan_apply"),
    ("我以前用过校园贷 现在还能借吗", "loan_apply"),
    ("被起诉了怎么办 我确实欠你们钱", "overdue_consequence"),
    ("律师函是你们发的吗", "verify_official"),
)
LIFT_ACTS = (
    "转账到安全账户",
    "共享屏幕",
    "提供验证码",
    "注销校园贷",
    "交解冻费",
    "先交保证金再放款",
    "下载会议软件",
    "刷流水",
    "把钱转到个人账户",
)
LIFT_IDS = ("A2093", "c1187", "8826", "kf0032")
# Rhetorical anger and sarcasm, told around any question.
LIFT_ANGRY_HEAD = (
    "把我们当提款机吗 ",
    "真当我好欺负是吧 ",
    "你们故意的吧 ",
    "谁给你们的胆子 ",
    "还有没有王法了 ",
    "一问三不知 ",
    "踢皮球踢够了没 ",
    "别敷衍我 ",
    "摆烂是吧 ",
    "你们领导呢 叫出来 ",
    "我看你们是不想干了 ",
    "耍猴呢 ",
    "做人不能太过分 ",
    "这就是你们的服务？ ",
    "真有意思 ",
    "我算是看透你们了 ",
    "你们脑子进水了吧 ",
    "笑死 ",
    "好家伙 ",
    "绝了 ",
    "醉了 ",
    "useless ",
    "what a joke ",
    "absolute garbage ",
    "u kidding? ",
    "FFS ",
)
LIFT_ANGRY_TAIL = (
    " 你们自己看着办",
    " 给个说法",
    " 必须给我解决",
    " 马上处理 听见没有",
    " 别再糊弄我了",
    " 今天不解决没完",
    " 你们是不是不想混了",
    " 有本事别扣我钱",
    " 要我去告你们吗",
    " 这种公司早点倒闭吧",
    " 工信部见",
    " 我要在网上曝光",
    " 效率低得离谱",
    " 一点诚信都没有",
    " 还好意思叫客服",
    " 机器人能不能闭嘴",
    " 我已经说了八百遍",
    " 真把人逼急了",
    " 就知道收钱",
    " 呵呵哒",
    " 心累 无语",
    " 还是人干的事吗",
    " 退钱！",
    " 等着被查吧",
    " 简直离大谱",
    " total scam",
    " fix it now!!",
    " ridiculous service",
    " 烦不烦啊",
    " 赶紧的",
    " 随便你们吧 反正我不还了",
    " 你们看着办 出了事别怪我",
    " 给我一个交代！",
    " 解释一下？？",
    " 你们到底想干嘛",
    " 这事我跟你们耗到底",
    " 早晚有人收拾你们",
    " 别逼我",
    " 有意思吗？",
    " 没见过这么烂的",
    " 我受不了了！",
    " 天天这样谁顶得住",
    " 耍我好玩吗",
    " 真当消费者好欺负",
)
LIFT_ANGRY_VICTIM = (
    " 你们平台怎么泄露的信息？？",
    " 你们是干什么吃的",
    " 你们必须赔我！",
    " 信息是不是你们卖的",
    " 都是你们的错 不管我就去告你们",
    " 钱没了你们负责吗！！",
    " 为什么没人提醒我 气死了",
    " 骗子都知道我的借款信息 你们怎么解释",
)
LIFT_ANGRY_WHOLE = {
    "repay_failed": ["明明到账了还说我欠着 你们会不会算账", "扣款扣不上还怪我 你们银行接口是纸糊的吗"],
    "repay_date": ["还款日想改就改 合同是废纸吗", "不提前通知就扣款 这是抢吧"],
    "repay_amount": ["账单越看越离谱 多收的钱吐出来", "每期金额都不一样 当我不会算数吗"],
    "penalty_fee": ["晚了几个小时就收罚息 你们心真黑", "罚息滚得比本金快 这合法吗？？"],
    "interest_rate": ["宣传的时候说日息万三 实际高这么多 骗子吧", "利息高成这样 跟放贷的有啥区别"],
    "limit": ["刚还完就把额度降了 过河拆桥", "额度给了又收回 耍人玩呢"],
    "loan_apply": ["审核慢得像蜗牛 你们到底放不放", "说好的秒批 等了三天 骗鬼呢"],
    "credit_report": ["谁允许你们乱报我征信的 马上撤回来", "我按时还的凭什么上征信 我要告你们"],
    "settle_proof": ["结清证明推了又推 是开不出来吗", "就一张证明 拖拖拉拉 耽误我贷款你们赔吗"],
    "hardship": ["都说了没钱 还天天逼 要我去卖肾吗", "申请延期就是不批 你们想逼死人"],
    "account_change": ["改个手机号折腾三天 什么破流程", "换卡换了五遍都失败 你们技术是摆设吗"],
    "complaint": ["你们服务烂透了 我投诉到底", "客服态度差得要命 我要投诉", "机器人只会说请重新描述 气死人"],
    "collection_complaint": ["催收半夜打电话 还骂人 你们管不管", "催收打给我领导 我工作都要丢了"],
    "overdue_consequence": ["动不动就说要起诉 吓唬谁呢", "才逾期一天就发律师函 至于么"],
    "early_repay": ["想提前还还要收违约金 哪有这种道理", "提前还清还要扣一笔 吃相难看"],
    "repay_how": ["找个还款按钮找半天 设计的人是猪吗", "还钱都这么难 你们是不想要钱吧"],
}
LIFT_CALM = (
    ("how do i repay my loan", "repay_how"),
    ("what is the interest rate of this loan", "interest_rate"),
    ("can you tell me my due date", "repay_date"),
    ("i want to talk about my payment plan", "hardship"),
    ("thank you so much", "chitchat"),
    ("is this the official number", "verify_official"),
    ("what happens if i pay late", "overdue_consequence"),
    ("请说清楚一点 谢谢", "chitchat"),
    ("麻烦给我个准话 什么时候到账", "loan_apply"),
    ("催收有什么规定吗", "collection_complaint"),
    ("我想了解一下投诉流程", "complaint"),
    ("逾期了我很怕 怎么办", "overdue_consequence"),
    ("罚息是怎么算的 想了解一下", "penalty_fee"),
    ("骗子很多 你们官网是哪个", "verify_official"),
)


def _spelled(text: str, rng: random.Random) -> str:
    keys = [k for k in SCAM_SPELLINGS if k in text]
    if keys and rng.random() < 0.45:
        key = rng.choice(keys)
        text = text.replace(key, " " + rng.choice(SCAM_SPELLINGS[key]) + " ", 1)
    if rng.random() < 0.2:
        text = text + rng.choice(LIFT_EMOJI)
    return text


def lift_scam_rows(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for _ in range(2400):
        who, ask = fill(rng.choice(LIFT_WHO), rng), fill(rng.choice(LIFT_ASK), rng)
        end, intent = rng.choice(LIFT_END)
        roll = rng.random()
        if roll < 0.5:
            text = f"{who}{rng.choice(('', '打电话', '加我微信', '发消息', '联系我'))} {ask}{end}"
        elif roll < 0.7:
            text = f"{rng.choice(('昨晚', '刚刚', '上周', '今天早上', '前天'))}{who}{ask}{end}"
        elif roll < 0.85:
            text = f"{ask.removeprefix('说').removeprefix('让我')} 是{who}说的{end}"
        else:
            text = f"我被{who}骗了 {ask}{end}"
        emotion = rng.choices(("calm", "anxious", "angry"), (0.35, 0.5, 0.15))[0]
        text = _spelled(styled(text, rng), rng)
        if emotion == "anxious":
            text = with_emotion(text, emotion, rng)
        elif emotion == "angry":
            text = text + rng.choice(LIFT_ANGRY_VICTIM + LIFT_ANGRY_TAIL)
        rows.append(record(text, intent, emotion, True))
    for _ in range(400):
        end, intent = rng.choice(LIFT_ENGLISH_END)
        text = f"{rng.choice(LIFT_ENGLISH_WHO)} {rng.choice(LIFT_ENGLISH_ASK)}{end}"
        rows.append(record(rng.choice(("", "help ", "hi, ", "urgent: ")) + text, intent, "anxious", True))
    for _ in range(1500):
        template, intent = rng.choice(LIFT_NOT_SCAM)
        text = template.format(n=rng.choice(LIFT_NUMBERS), i=rng.choice(LIFT_IDS), a=rng.choice(LIFT_ACTS))
        text = _spelled(styled(framed(text, rng), rng), rng) if rng.random() < 0.5 else styled(text, rng)
        rows.append(record(text, intent, "calm", False))
    return rows


def lift_emotion_rows(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    intents = [i for i in CORES if i not in {"chitchat", "other"}]
    for _ in range(1800):
        intent = rng.choice(intents)
        core = fill(rng.choice(CORES[intent]), rng)
        roll = rng.random()
        if roll < 0.4:
            text = rng.choice(LIFT_ANGRY_HEAD) + core
        elif roll < 0.8:
            text = core + rng.choice(LIFT_ANGRY_TAIL)
        else:
            text = rng.choice(LIFT_ANGRY_HEAD) + core + rng.choice(LIFT_ANGRY_TAIL)
        rows.append(record(styled(text, rng), intent, "angry"))
        # The same question asked calmly: the anger is in the frame, not in the question's words.
        rows.append(record(styled(framed(core, rng), rng), intent, "calm"))
    for intent, lines in LIFT_ANGRY_WHOLE.items():
        for line in lines:
            for _ in range(6):
                rows.append(record(styled(framed(line, rng), rng), intent, "angry"))
    for text, intent in LIFT_CALM:
        for _ in range(6):
            rows.append(record(styled(framed(text, rng), rng), intent, "calm"))
    return rows


# Intent boundaries that were still weak on the development set (issue 19, second round).
LIFT_CORES: dict[str, list[str]] = {
    "complaint": [
        "客服热线总是打不通",
        "打了一上午电话都是忙音",
        "在线客服半天不回消息",
        "机器人只会让我换个说法",
        "问了好几遍都是套话",
        "你们的服务态度太差了 我要反映",
        "工作人员处理问题拖拖拉拉",
        "上次答应给我回电 一直没人打来",
        "这么久了没人处理我的问题",
        "我要去12378反映你们",
        "准备去黑猫投诉平台投诉",
        "我的个人信息是不是被你们泄露了 总接到推销电话",
        "你们app乱弹广告",
        "宣传和实际不一样 属于虚假宣传",
        "你们的服务我很不满意",
        "我要给你们差评",
        "你们的规则一天一个样",
        "办个业务要跑好几个部门",
    ],
    "credit_report": [
        "逾期{n}天会不会有不良记录",
        "晚还{n}天会报给人行吗",
        "这次逾期会不会留下信用污点",
        "逾期了征信多久能恢复",
        "我逾期了 征信上会显示多久",
        "晚了几天 会不会影响我以后贷款的信用记录",
        "逾期之后查征信能看到吗",
        "你们是接入人行征信的吗",
        "征信报告上的逾期能申请撤销吗",
        "会不会上报百行征信",
    ],
    "penalty_fee": [
        "罚息太高了 能少收点吗",
        "滞纳金能不能免掉",
        "违约金可以申请减免吗",
        "晚了{n}天收了多少罚息",
        "逾期费用能不能打个折",
        "这个罚金我觉得不合理 能退吗",
        "逾期利息是按天算的吗",
        "能不能只还本金 罚息免了",
    ],
    "other": [
        "能帮我交{x}吗",
        "可以用你们app缴{x}吗",
        "怎么用{p}交{x}",
        "{x}交错了能退吗",
        "能帮我查查快递到哪了吗",
        "帮我订张火车票",
        "商家收款码被限额了",
        "收款到账有延迟吗 我是商户",
        "线下门店能用{p}付款吗",
        "怎么给商家退款",
    ],
    "repay_failed": [
        "还款显示处理中一直没完成",
        "付了钱但是账单没变",
        "paid already but the app still shows i owe",
        "我还款了 还是收到逾期短信",
        "扣款提示失败 可我卡里钱够",
        "还款成功了但是额度没恢复 也显示没还",
    ],
    "account_change": [
        "银行卡被冻结了 想换张卡扣款",
        "原来的卡注销了 怎么换绑",
        "预留手机号停机了 怎么改",
        "换了新手机号 收不到验证码 怎么修改",
    ],
    "interest_rate": [
        "费用这么高 是不是高利贷",
        "综合年化到底多少",
        "are the fees this high normal",
        "what's the apr on this",
        "利息加服务费一共多少",
    ],
    "hardship": [
        "这个月确实还不上 能延后几天吗",
        "收入断了 能不能先只还利息",
        "能给个还款计划吗 我分几次还",
        "生病住院了 能申请缓一缓吗",
    ],
}
LIFT_FEES = ("水电费", "话费", "燃气费", "物业费", "学费", "宽带费", "社保", "交通罚款")


def lift_intent_rows(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for intent, cores in LIFT_CORES.items():
        for _ in range(160):
            core = rng.choice(cores).format(
                n=rng.choice((1, 2, 3, 5, 7, 10)), x=rng.choice(LIFT_FEES), p="{p}"
            )
            emotion = rng.choices(("calm", "anxious", "angry"), (0.6, 0.2, 0.2))[0]
            text = styled(framed(fill(core, rng), rng), rng)
            rows.append(record(with_emotion(text, emotion, rng), intent, emotion))
    return rows


# Not impostors: collectors' own conduct (a collection complaint, even when they pose as lawyers or
# the court), and borrowers acknowledging the anti-scam advice.
LIFT_COLLECTOR_NOT_SCAM = (
    "你们催收说自己是法院的 说要起诉我",
    "催收员冒充律师给我打电话 吓唬我要上门",
    "催收说公安会来抓我 这合法吗",
    "你们的催收说要派人去我单位 还说要通知我爸妈",
    "催收自称律所的 天天发律师函短信",
    "催收说不还就冻结我所有银行卡",
    "催收冒充法院发了个传票照片给我",
    "你们委托的催收公司说要去我老家上门",
    "催收打我紧急联系人 还说我诈骗",
    "催收发短信说已经立案了 让我今天还清",
    "催收的人说我这是诈骗罪要坐牢",
    "催收威胁说要曝光到我朋友圈",
)
LIFT_ACKNOWLEDGE = (
    "好的 我不会把验证码给别人",
    "明白了 不转账给陌生人",
    "谢谢提醒 我没点那个链接",
    "知道了 我挂了那个电话 没转钱",
    "好 我不会开屏幕共享的",
    "收到 以后只认你们官方电话",
)
LIFT_CANTONESE_SCAM = (
    "有個自稱{p}客服嘅人話我賬戶有問題 叫我轉錢去安全賬戶",
    "佢哋拉咗我入個群 話係官方客服群 叫我下載個app還款",
    "有人打嚟話我以前開咗校園貸 要幫我註銷 叫我借錢轉畀佢",
    "個客服叫我開屏幕共享 話幫我退款 跟住我張卡啲錢冇咗",
    "佢話我筆貸款凍結咗 要交解凍費 我已經畀咗三千",
    "有個中介話幫我洗白征信 收咗我五千蚊 跟住封咗我",
    "有人扮警察打畀我 話我涉及洗黑錢 要我將錢轉去監管賬戶",
    "佢叫我讀返個驗證碼畀佢聽 話核實身份",
    "有個群主話帶我哋投資 叫我喺網貸借錢充值 而家提唔到錢",
    "話我中咗獎 要先交稅 我轉咗一千過去",
)
LIFT_GROUP_SCAM = (
    "被拉进一个{p}官方福利群 群主让大家先转钱激活额度",
    "一个叫{p}客服中心的微信群 让每个人扫码交保证金提额",
    "群里有人说是你们的工作人员 说可以内部渠道下款 要先交会员费",
    "进了一个还款指导群 他们让我把钱转到群主的卡上代还",
    "QQ群里冒充你们的人 让我们下载新app 把借款转进去验资",
    "群里的导师让我借网贷买他们的理财 说稳赚 现在钱取不出来",
)


def lift_more_rows(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for line in LIFT_COLLECTOR_NOT_SCAM:
        for _ in range(8):
            emotion = rng.choices(("calm", "anxious", "angry"), (0.3, 0.4, 0.3))[0]
            text = with_emotion(styled(framed(line, rng), rng), emotion, rng)
            rows.append(record(text, "collection_complaint", emotion, False))
    for line in LIFT_ACKNOWLEDGE:
        for _ in range(6):
            rows.append(record(styled(line, rng), "chitchat", "calm", False))
    for line in LIFT_CANTONESE_SCAM + LIFT_GROUP_SCAM:
        for _ in range(10):
            end, intent = rng.choice(LIFT_END)
            text = fill(line, rng) + (end if rng.random() < 0.5 else "")
            text = typo(text, rng) if rng.random() < 0.3 else text
            text = _s2t.convert(text) if rng.random() < 0.3 else text
            rows.append(
                record(text, intent if text.endswith(end) and end else "fraud_report", "anxious", True)
            )
    return rows


def main() -> None:
    rng = random.Random(SEED)
    rows = intent_rows(rng) + combined_rows(rng) + scam_rows(rng)
    rows += lift_scam_rows(rng) + lift_emotion_rows(rng) + lift_intent_rows(rng)
    rows += lift_more_rows(rng)
    seen, unique = set(), []
    for row in rows:
        key = (row["text"], row["intent"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in unique), encoding="utf-8")
    print(f"wrote {len(unique)} rows to {OUT}")


if __name__ == "__main__":
    main()
