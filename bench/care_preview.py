"""Care benchmark: a campaign's preview (who is eligible, who is left out and why) over a large book.

    PYTHONPATH=src .venv/bin/python bench/care_preview.py [--borrowers 1000000] [--postgres]

A book of --borrowers borrowers is written straight into a fresh database (not timed): about 8 %
with an overdue loan, 70 % consenting to marketing SMS, 3 % opted out, contact windows of four
kinds (a quarter without one), 20 % with one and 5 % with two marketing messages in the last 30
days, 1 % under a dispute hold, 30 % personalised. Then the preview of a greeting to every
borrower (`care.service.preview`: one set-based statement over every registered exclusion) is
timed, best of three, against a baseline measured in the same run on the same database: a bare
`SELECT COUNT(*)` over the borrowers, the floor of any statement that looks at each of them once.
Target (docs/PERFORMANCE.md): ≤ 3 s for 1,000,000 borrowers.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.append(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))  # for tests.*

from sqlalchemy import Engine, text
from tests.ledger.book import add_product

from lenddesk.care import service as care
from lenddesk.core import audit
from lenddesk.core.db import make_engine, session_factory, upgrade_database

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
WINDOWS = (None, "09:00-12:00", "12:00-14:00", "08:00-21:00")
BATCH = 50_000
SMS_TEXT = "祝您节日快乐！【LendDesk 消费金融】回复TD退订"


def _batches(count: int, row: Callable[[int], dict[str, object]]) -> Iterator[list[dict[str, object]]]:
    for start in range(1, count + 1, BATCH):
        yield [row(i) for i in range(start, min(start + BATCH, count + 1))]


def _insert(
    engine: Engine,
    statement: str,
    count: int,
    row: Callable[[int], dict[str, object]],
    keep: Callable[[int], bool],
) -> None:
    for batch in _batches(count, row):
        rows = [values for values in batch if keep(int(values["i"]))]  # type: ignore[arg-type]
        if rows:
            with engine.begin() as connection:
                connection.execute(text(statement), rows)


def build_book(engine: Engine, borrowers: int) -> None:
    created = NOW - timedelta(days=400)
    _insert(
        engine,
        "INSERT INTO borrowers (id, name, id_number, mobile, preferred_contact_time, created_at)"
        " VALUES (:i, '测试', :id_number, :mobile, :window, :created)",
        borrowers,
        lambda i: {
            "i": i,
            "id_number": f"B{i:017d}",
            "mobile": f"139{i:08d}",
            "window": WINDOWS[i % 4],
            "created": created,
        },
        lambda i: True,
    )
    with session_factory(engine)() as session:
        product_id = add_product(session).id
        session.commit()
    _insert(
        engine,
        "INSERT INTO loans (id, contract_number, borrower_id, product_id, principal_fen, annual_rate, term,"
        " method, disbursed_on, status, days_past_due, bucket, oldest_unpaid_due_on, next_due_on,"
        " outstanding_principal_fen,"
        " cost_charged_fen, principal_days_repaid, early_repayment_fees_fen, credit_balance_fen, created_at)"
        " VALUES (:i, :contract, :i, :product, 1200000, 0.18, 12, 'equal_instalment', :disbursed, 'overdue',"
        " 12, 'M1',"
        " :due, :due, 1000000, 0, 0, 0, 0, :created)",
        borrowers,
        lambda i: {
            "i": i,
            "contract": f"HT-BENCH-{i}",
            "product": product_id,
            "disbursed": date(2026, 6, 1),
            "due": date(2026, 11, 19),
            "created": created,
        },
        lambda i: i % 100 < 8,
    )
    _insert(
        engine,
        "INSERT INTO care_consents (borrower_id, purpose, channel, evidence, granted_at, granted_by)"
        " VALUES (:i, 'marketing', 'sms', 'App 勾选', :at, 'bench')",
        borrowers,
        lambda i: {"i": i, "at": created},
        lambda i: i % 10 < 7,
    )
    _insert(
        engine,
        "INSERT INTO desk_opt_outs (channel, address, borrower_id, source, scope, created_at)"
        " VALUES ('sms', :mobile, :i, 'sms_reply', 'marketing', :at)",
        borrowers,
        lambda i: {"i": i, "mobile": f"139{i:08d}", "at": created},
        lambda i: i % 100 in (11, 47, 83),
    )
    _insert(
        engine,
        "INSERT INTO care_profiles (borrower_id, topics, personalised, updated_at)"
        " VALUES (:i, '[]', :p, :at)",
        borrowers,
        lambda i: {"i": i, "p": i % 10 < 3, "at": created},
        lambda i: True,
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO care_campaigns (id, name, kind, channel, text, audience, status, created_by,"
                " launches, sent, created_at) VALUES"
                " (1, '旧活动', 'greeting', 'sms', :t, '{}', 'launched', 'bench', 1, 0, :at),"
                " (2, '旧活动二', 'offer', 'sms', :t, '{}', 'launched', 'bench', 1, 0, :at)"
            ),
            {"t": SMS_TEXT, "at": NOW - timedelta(days=10)},
        )
        if connection.dialect.name == "postgresql":  # the explicit ids left the sequence at 1
            connection.execute(text("SELECT setval(pg_get_serial_sequence('care_campaigns', 'id'), 2)"))
    for campaign, share in ((1, 20), (2, 5)):
        _insert(
            engine,
            "INSERT INTO care_sends (campaign_id, borrower_id, marketing, channel, sent_at)"
            " VALUES (:campaign, :i, TRUE, 'sms', :at)",
            borrowers,
            lambda i, campaign=campaign: {"i": i, "campaign": campaign, "at": NOW - timedelta(days=10)},
            lambda i, share=share: (i * 7) % 100 < share,
        )
    _insert(
        engine,
        "INSERT INTO collections_holds (borrower_id, ticket_number, reason, opened_at)"
        " VALUES (:i, :t, '争议', :at)",
        borrowers,
        lambda i: {"i": i, "t": f"T-BENCH-{i}", "at": created},
        lambda i: i % 100 == 5,
    )
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def measure(url: str, borrowers: int) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    started = time.perf_counter()
    build_book(engine, borrowers)
    print(f"  book of {borrowers:,} borrowers written in {time.perf_counter() - started:.1f} s (not timed)")
    with session_factory(engine)() as session:
        campaign = care.create_campaign(
            session,
            actor=audit.Actor.system("bench"),
            name="元旦问候",
            kind="greeting",
            channel="sms",
            text=SMS_TEXT,
            audience={"segment": "all"},
            send_on=None,
            now=NOW,
        )
        session.commit()
        campaign_id = campaign.id

    def bare() -> object:
        with engine.connect() as connection:
            return connection.execute(text("SELECT COUNT(*) FROM borrowers")).scalar()

    def preview() -> object:
        with session_factory(engine)() as session:
            return care.preview(session, campaign_id=campaign_id, now=NOW)

    baseline, _ = best_of(3, bare)
    seconds, found = best_of(3, preview)
    print(f"  baseline  COUNT(*) over borrowers: {baseline:.3f} s")
    print(f"  preview   {seconds:.3f} s   ratio to baseline {seconds / baseline:.1f}×   target ≤ 3 s")
    print(f"  result    {found}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--borrowers", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (a server of its own)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lenddesk-care-bench-") as scratch:
        print("SQLite")
        measure(f"sqlite:///{Path(scratch) / 'care.db'}", args.borrowers)
    if args.postgres:
        from tests.support.servers import start_postgres

        server = start_postgres()
        try:
            print("PostgreSQL")
            measure(server.url, args.borrowers)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
