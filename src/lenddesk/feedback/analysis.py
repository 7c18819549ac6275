"""What a borrower's survey comment says: its sentiment and its topics. Pure.

The comment is normalised like the desk's texts (NFKC, Simplified Chinese, no spaces) and cut
into words with jieba. The sentiment counts positive and negative service words, a negation
(不, 没, 别 …) just before a word turning it round; with no opinion word the CSAT decides (4–5
positive, 3 neutral, 1–2 negative). The topics are the desk's categories whose keywords the
comment uses (plus attitude, speed and resolution); the keywords are jieba's TF-IDF top words.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jieba

from lenddesk.desk import categorise
from lenddesk.desk.disclosure import normalise

POSITIVE = frozenset(
    [
        "满意",
        "很好",
        "好",
        "不错",
        "耐心",
        "专业",
        "及时",
        "快",
        "迅速",
        "感谢",
        "谢谢",
        "热情",
        "解决",
        "贴心",
        "细心",
        "给力",
        "棒",
        "赞",
        "周到",
        "礼貌",
        "清楚",
        "高效",
        "靠谱",
        "认真",
        "负责",
        "温柔",
        "理解",
    ]
)
NEGATIVE = frozenset(
    [
        "不满意",
        "差",
        "很差",
        "慢",
        "太慢",
        "敷衍",
        "推诿",
        "推脱",
        "没用",
        "骚扰",
        "威胁",
        "恐吓",
        "辱骂",
        "失望",
        "垃圾",
        "糟糕",
        "生气",
        "烦",
        "等太久",
        "乱收费",
        "不专业",
        "态度差",
        "欺骗",
        "不理",
        "扯皮",
        "坑",
        "无语",
        "难用",
        "投诉",
        "差劲",
    ]
)
NEGATIONS = ("不", "没", "没有", "别", "未", "无", "不太", "不够")
# Topics beyond the desk's categories that a service comment is often about.
SERVICE_TOPICS = {
    "attitude": ("态度", "礼貌", "热情", "耐心", "语气"),
    "speed": ("速度", "太慢", "等太久", "及时", "响应", "回复慢", "效率"),
    "resolution": ("解决", "没解决", "处理结果", "办好"),
}
TOPIC_LABELS = {
    **categorise.CATEGORIES,
    "attitude": "服务态度",
    "speed": "响应速度",
    "resolution": "问题解决",
}


@dataclass(frozen=True)
class CommentAnalysis:
    sentiment: str  # positive, neutral, negative
    topics: tuple[str, ...]
    keywords: tuple[str, ...]


@lru_cache(maxsize=1)
def _ready() -> bool:
    jieba.setLogLevel(60)
    jieba.initialize()
    for word in POSITIVE | NEGATIVE:
        jieba.add_word(word)
    return True


def _polarity(words: list[str]) -> int:
    total = 0
    for index, word in enumerate(words):
        sign = 1 if word in POSITIVE else -1 if word in NEGATIVE else 0
        if sign and index and words[index - 1] in NEGATIONS:
            sign = -sign
        total += sign
    return total


def analyse(comment: str | None, csat: int) -> CommentAnalysis:
    text = normalise(comment or "")
    if not text:
        return CommentAnalysis(_from_csat(csat), (), ())
    _ready()
    words = [w for w in jieba.lcut(text) if w.strip()]
    polarity = _polarity(words)
    sentiment = "positive" if polarity > 0 else "negative" if polarity < 0 else _from_csat(csat)
    topics = [category for category, keywords in categorise.KEYWORDS if any(k in text for k in keywords)]
    topics += [topic for topic, keywords in SERVICE_TOPICS.items() if any(k in text for k in keywords)]
    # Imported on first use: jieba.analyse loads its part-of-speech tables at import (about 95 MiB
    # and 2 s), which every process importing the app paid, an export or a close included.
    from jieba import analyse as jieba_analyse

    keywords = tuple(jieba_analyse.extract_tags(text, topK=5))
    return CommentAnalysis(sentiment, tuple(dict.fromkeys(topics)), keywords)


def _from_csat(csat: int) -> str:
    return "positive" if csat >= 4 else "neutral" if csat == 3 else "negative"
