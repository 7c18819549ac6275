"""A simulated month: a seeded book, 30 days of close of business and planning, the day's messages
released through the guard, collectors working their lists with some bad wording and at bad hours —
and then no sent contact breaks a rule, and every blocked one is recorded with its codes."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, select

from lenddesk.collections import guard, service
from lenddesk.collections.models import Contact, Hold
from lenddesk.core import audit
from lenddesk.core.calendar import SHANGHAI, to_shanghai
from lenddesk.core.db import session_factory
from lenddesk.core.models import User
from lenddesk.desk.service import record_opt_out
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import Borrower
from lenddesk.ledger.seed import SeedOptions, seed_book

START = date(2026, 10, 31)
WORDING = [
    "您好，您的借款已逾期，请尽快通过银行转账、微信支付或支付宝还款，如有困难请联系我们。",
    "您好，逾期将按合同收取罚息并可能影响个人征信，我司可能依法提起诉讼，请尽快还款。",
    "再不还钱就等着坐牢吧",
    "我們是工安，马上上门抓你",
    "老赖，通知你单位领导",
]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def test_a_month_of_collection_never_sends_a_non_compliant_contact(engine: Engine) -> None:
    seed_book(engine, SeedOptions(borrowers=150, business_date=START, simulate_days=3))
    factory = session_factory(engine)
    rng = random.Random(11)
    with factory() as session:
        collector = audit.Actor.of(session.scalar(select(User).where(User.username == "collector")))
        some = session.scalars(select(Borrower).order_by(Borrower.id).limit(10)).all()
        for borrower in some[:5]:  # a few borrowers opted out of SMS
            record_opt_out(
                session,
                channel="sms",
                address=borrower.mobile,
                borrower_id=borrower.id,
                source="sms",
                now=_at(START, 12),
            )
        session.commit()
    for offset in range(1, 31):
        closed = START + timedelta(days=offset)
        run_cob(engine, closed)
        day = closed + timedelta(days=1)
        with factory() as session:
            service.release_due(session, now=_at(day, 9, 30), limit=10_000)
            session.commit()
            rows = service.worklist(session, user_id=collector.user_id, day=day)
            for row in rows[:6]:
                for _ in range(rng.randint(1, 3)):
                    hour = rng.choice([7, 10, 14, 20, 21, 22])
                    service.send_contact(
                        session, actor=collector, borrower_id=row.borrower_id, recipient="self",
                        channel=rng.choice(["sms", "call_script"]), text=rng.choice(WORDING),
                        now=_at(day, hour, rng.randint(0, 59)),
                    )  # fmt: skip
                if rng.random() < 0.1:
                    service.record_outcome(
                        session, actor=collector, borrower_id=row.borrower_id, kind="dispute",
                        note="借款人对金额有异议", now=_at(day, 23),
                    )  # fmt: skip
            session.commit()
    _assert_every_sent_contact_complies(engine)


def _assert_every_sent_contact_complies(engine: Engine) -> None:
    rules = service.contact_rules()
    with session_factory(engine)() as session:
        contacts = session.scalars(select(Contact).order_by(Contact.id)).all()
        holds = session.scalars(select(Hold)).all()
        mobiles = dict(session.execute(select(Borrower.id, Borrower.mobile)).all())
        opted = {b for b in mobiles if "sms" in service.OPT_OUT_CHANNELS and _opted(session, b, mobiles[b])}
    sent = [c for c in contacts if c.status == "sent"]
    blocked = [c for c in contacts if c.status == "blocked"]
    assert len(sent) > 100 and len(blocked) > 20, (len(sent), len(blocked))
    per_day = Counter((c.borrower_id, c.local_date) for c in sent)
    assert max(per_day.values()) <= rules.daily_cap
    for contact in sent:
        local = to_shanghai(contact.created_at.replace(tzinfo=contact.created_at.tzinfo or UTC))
        assert rules.window_start <= local.time() < rules.window_end, contact.id
        first = contact.local_date - timedelta(days=6)
        week = sum(
            count
            for (borrower, day), count in per_day.items()
            if borrower == contact.borrower_id and first <= day <= contact.local_date
        )
        assert week <= rules.rolling_7d_cap
        assert guard.text_violations(contact.text) == [], contact.text
        assert not (contact.channel == "sms" and contact.borrower_id in opted)
        for hold in holds:
            if hold.borrower_id == contact.borrower_id:
                assert contact.created_at <= hold.opened_at.replace(tzinfo=contact.created_at.tzinfo), (
                    contact.id
                )
    for contact in blocked:
        assert contact.codes and set(contact.codes) <= set(guard.VIOLATION_CODES)
        assert [v["code"] for v in contact.violations] == contact.codes
    assert {"QUIET_HOURS", "FALSE_CONSEQUENCE", "FALSE_AUTHORITY", "INSULT"} <= {
        c for b in blocked for c in b.codes
    }


def _opted(session, borrower_id: int, mobile: str) -> bool:  # type: ignore[no-untyped-def]
    from lenddesk.desk.service import opted_out_channels

    return "sms" in opted_out_channels(session, borrower_id=borrower_id, addresses=(mobile,))
