"""A QA transcript read once for every item: its turns cut into sentences, each normalised (NFKC,
Simplified, no spaces, lower case), indexed by turn and by speaker; the guard's findings per turn;
and what the borrower said that every item may need (distress). Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from lenddesk.collections import guard
from lenddesk.desk import disclosure
from lenddesk.quality import language

SPEAKERS = ("agent", "borrower", "bot")
COMPANY = frozenset({"agent", "bot"})
# Stored conversations also carry the staff's internal notes (call notes, collection notes): checked
# for banned language and privacy only, as the borrower never reads them.
STAFF_WRITTEN = COMPANY | {"note"}
EVIDENCE_LIMIT = 200

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…\n])")

# Distress, worry or hardship in the borrower's words (EMPATHY; a hardship also touches the account).
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
class Sentence:
    turn: int  # index of the turn
    speaker: str
    text: str  # as written, trimmed
    plain: str  # normalised: NFKC, Simplified, no spaces, lower-case
    at: datetime | None


@dataclass
class Reading:
    """A conversation cut into sentences, each normalised once (the checks share the work)."""

    conversation: Conversation
    sentences: list[Sentence] = field(default_factory=list)
    _violations: dict[int, tuple[guard.Violation, ...]] = field(default_factory=dict)
    _by_turn: dict[int, list[Sentence]] | None = None
    _by_speakers: dict[frozenset[str], list[Sentence]] = field(default_factory=dict)
    # What a check works out once per conversation and asks again sentence by sentence.
    memo: dict[tuple[str, int], object] = field(default_factory=dict)

    def in_turn(self, turn: int) -> list[Sentence]:
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

    def of(self, speakers: Iterable[str]) -> list[Sentence]:
        """The sentences of these speakers, in order (listed once per set of speakers; not to be
        changed by the caller)."""
        wanted = frozenset(speakers)
        if wanted not in self._by_speakers:
            self._by_speakers[wanted] = [s for s in self.sentences if s.speaker in wanted]
        return self._by_speakers[wanted]

    def turns_of(self, speakers: Iterable[str]) -> list[int]:
        wanted = set(speakers)
        return [i for i, turn in enumerate(self.conversation.turns) if turn.speaker in wanted]

    def sentence_with(self, turn: int, code: str) -> Sentence:
        """The sentence of `turn` the guard objects to under `code` (the first, else the whole turn)."""
        sentences = self.in_turn(turn)
        for sentence in sentences:
            if any(v.code == code for v in guard.text_violations(sentence.text)):
                return sentence
        whole = self.conversation.turns[turn]
        return Sentence(turn, whole.speaker, whole.text.strip(), "", whole.at)


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


def read(conversation: Conversation) -> Reading:
    raw: list[tuple[int, Turn, str]] = [
        (index, turn, sentence)
        for index, turn in enumerate(conversation.turns)
        for sentence in _sentences(turn.text)
    ]
    plains = [normalise(sentence) for _, _, sentence in raw]
    reading = Reading(conversation)
    reading.sentences = [
        Sentence(index, turn.speaker, sentence, plain, turn.at)
        for (index, turn, sentence), plain in zip(raw, plains, strict=True)
    ]
    return reading


def quote(sentence: Sentence | None, note: str = "") -> str:
    if sentence is None:
        return note
    who = {"agent": "客服", "borrower": "客户", "bot": "机器人", "note": "备注"}.get(
        sentence.speaker, sentence.speaker
    )
    quoted = f"{who}：「{sentence.text[:EVIDENCE_LIMIT]}」"
    return f"{quoted}（{note}）" if note else quoted


def has(plain: str, words: Iterable[str]) -> str | None:
    return next((word for word in words if word in plain), None)


def _guard_findings(text: str) -> tuple[guard.Violation, ...]:
    return language.findings(text)


def _expresses_distress(plain: str) -> bool:
    """A distress word not denied just before it (没什么困难 is none)."""
    return any(
        not _DENIED_BEFORE.search(plain[max(0, found.start() - 4) : found.start()])
        for found in _DISTRESS.finditer(plain)
    )


def distress(reading: Reading) -> Sentence | None:
    """The borrower's first sentence of distress, worry or hardship."""
    return next((s for s in reading.of(["borrower"]) if _expresses_distress(s.plain)), None)
