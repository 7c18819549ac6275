"""The daily contact plan, run by the close of business after aging: set-based SQL, no per-loan loop.

For business date D the plan prepares the contact day C = D + 1:

1. accounts: every borrower with an overdue loan, or a current loan falling due within the longest
   pre-due lead, gets a collections account (arm drawn once: champion or challenger);
2. state: overdue amount, worst bucket and days past due per borrower; accounts no longer overdue
   are cured (or closed when a loan was written off);
3. promises to pay due by D are marked kept or broken from the repayments (before step 2, whose
   score counts them); 4. the propensity score and expected recovery (docs/COLLECTIONS.md) are
   computed in step 2's single UPDATE;
5. automated steps of each strategy become scheduled contacts (released to the outbox during the
   contact day by `release_due`, which runs the guard on each); a message step goes on the
   channel the borrower chose (their profile, read through the ledger), and is released once their
   contact window has opened;
6. agent steps become worklist lines, accounts are assigned to collectors by bucket and load, and
   (in a transaction of its own, `_rank_worklist`) each collector's lines are ranked by expected
   recovery.

The plan reads the book through the ledger's SQL read interface (`ledger.read_sql`): each step is
still one set-based statement, whose parts over the ledger's tables the ledger builds. Every
statement is idempotent for the date (unique plan keys, ON CONFLICT DO NOTHING, recomputed
columns), so a crash re-runs safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import JSON, Connection, Date, bindparam, text

from lenddesk.collections.service._common import strategy_for_arm
from lenddesk.core.db import utcnow
from lenddesk.core.policy import CollectionsPolicy, CollectionStep, Policy, get_policy
from lenddesk.ledger import read_sql as book
from lenddesk.ledger.delinquency import bucket_labels

_DATE_PARAMS = ("d", "c", "c_lead", "d_30", "c_step", "d_rejudge", "cohort_first", "cohort_last")


def _sql(statement: str) -> Any:
    clause = text(statement)
    return clause.bindparams(
        *(bindparam(name, type_=Date) for name in _DATE_PARAMS if f":{name}" in statement)
    )


LOANS = book.BookLoans("l")


def _arm_sql(column: str, percent: int) -> str:
    draw = f"(({column} * 2654435761) % 4294967296) % 100"
    return f"CASE WHEN {draw} < {percent} THEN 'challenger' ELSE 'champion' END"


def _bucket_sql(dpd: str, bounds: list[int]) -> str:
    labels = bucket_labels(bounds)
    cases = " ".join(f"WHEN {dpd} <= {bound} THEN '{labels[i + 1]}'" for i, bound in enumerate(bounds))
    return f"CASE WHEN {dpd} <= 0 THEN 'M0' {cases} ELSE '{labels[-1]}' END"


@dataclass(frozen=True)
class _Plan:
    dialect: str
    policy: CollectionsPolicy
    bounds: list[int]

    @property
    def max_lead(self) -> int:
        leads = [-step.day for strategy in self.policy.strategies for step in strategy.steps if step.day <= 0]
        return max(leads, default=0)


def plan_day(
    connection: Connection, business_date: date, policy: Policy | None = None, *, judge: bool = True
) -> dict[str, int]:
    """Plan the contact day after `business_date` (idempotent: a planned date is skipped).

    `judge=False` when the promises of the date were judged already (the close's own step does it,
    so that the score can read the verdicts beside the plan).
    """
    policy = policy or get_policy()
    plan = _Plan(connection.dialect.name, policy.collections, list(policy.ledger.bucket_upper_bounds))
    contact_day = business_date + timedelta(days=1)
    with connection.begin():
        status = connection.execute(
            text("SELECT status FROM collections_plan_runs WHERE business_date = :d").bindparams(
                bindparam("d", type_=Date)
            ),
            {"d": business_date},
        ).scalar()
        if status == "done":
            return {"skipped": 1}
        if status is None:
            connection.execute(
                _sql(
                    "INSERT INTO collections_plan_runs (business_date, status, counts) VALUES (:d,"
                    " 'running', '{}')"
                ),
                {"d": business_date},
            )
    if plan.dialect == "sqlite":
        # The plan reads the overdue part of the book at random: more than SQLite's default 2 MB cache.
        connection.exec_driver_sql("PRAGMA cache_size = -262144")
        connection.commit()
    params = {"d": business_date, "c": contact_day, "c_lead": contact_day + timedelta(days=plan.max_lead)}
    counts: dict[str, int] = {}
    reanalyse = False
    for name, stage in (
        ("accounts", _open_accounts),
        ("promises", _judge_promises if judge else _judged_already),
        ("overdue", _refresh_overdue),
        ("cured", _cure_accounts),
        ("scheduled", _schedule_messages),
        ("worklist", _build_worklist),
        ("ranked", _rank_worklist),
    ):
        with connection.begin():
            counts[name] = stage(connection, plan, params)
        if name == "accounts" and plan.dialect == "postgresql":
            reanalyse = _statistics_stale(connection, opened=counts[name])
        if name in ("accounts", "overdue") and reanalyse:
            # Fresh statistics for the join order: a table analysed while it was empty (a new
            # database, the first plan) makes PostgreSQL scan it once per loan.
            connection.exec_driver_sql("ANALYZE collections_accounts")
            connection.commit()
    with connection.begin():
        connection.execute(
            text(
                "UPDATE collections_plan_runs SET status = 'done', counts = :counts, finished_at = :now"
                " WHERE business_date = :d"
            ).bindparams(bindparam("d", type_=Date), bindparam("counts", type_=JSON)),
            {"d": business_date, "counts": counts, "now": utcnow()},
        )
    return counts


def _statistics_stale(connection: Connection, *, opened: int) -> bool:
    """Whether the accounts' statistics predate most of its rows: never analysed, or this plan opened
    more than a tenth as many accounts as they count. A usual day opens a few (autovacuum's own
    analyses keep up with those) and is spared two ANALYZEs."""
    known = _accounts_counted(connection)
    connection.commit()
    return known is None or known <= 0 or opened > known / 10


def _accounts_counted(connection: Connection) -> float | None:
    """The accounts as PostgreSQL's statistics count them: None or ≤ 0 when never analysed."""
    return connection.scalar(_ACCOUNTS_COUNTED)


_ACCOUNTS_COUNTED = text("SELECT reltuples FROM pg_class WHERE relname = 'collections_accounts'")


def _not_open_yet(connection: Connection, plan: _Plan) -> str:
    """The candidates without an account, as a condition of the accounts' INSERT.

    The unique key skips the others anyway (ON CONFLICT), but one probe at a time: on a day's plan
    at 1,000,000 loans 124,525 of 152,033 candidates had an account, and their probes took most of
    the statement's 1.1 s. On PostgreSQL with the accounts analysed an anti-join reads them once.
    Against a table never analysed (a new database, the first plan) PostgreSQL would plan that
    anti-join as a nested loop re-scanning the rows the statement inserts (quadratic), so then, and
    on SQLite (whose anti-join is the same probe), the unique key alone decides.
    """
    if plan.dialect != "postgresql":
        return "TRUE"
    known = _accounts_counted(connection)
    if known is None or known <= 0:
        return "TRUE"
    return "NOT EXISTS (SELECT 1 FROM collections_accounts a WHERE a.borrower_id = x.borrower_id)"


def _open_accounts(connection: Connection, plan: _Plan, params: dict[str, Any]) -> int:
    policy = plan.policy
    percent = policy.challenger_percent if policy.challenger else 0
    arm = _arm_sql("x.borrower_id", percent)
    strategy = (
        f"CASE WHEN {arm} = 'challenger' THEN '{strategy_for_arm('challenger', policy)}'"
        f" ELSE '{policy.champion}' END"
    )
    result = connection.execute(
        _sql(
            "INSERT INTO collections_accounts (borrower_id, state, strategy, arm, bucket, days_past_due,"
            " overdue_fen, propensity, ontime_lines, due_lines, paid_last_30d, promises_kept,"
            " promises_broken, expected_recovery_fen, segment, worst_bucket)"
            f" SELECT x.borrower_id, 'current', {strategy}, {arm}, 'M0', 0, 0, 50, 0, 0, FALSE, 0, 0, 0,"
            f" 'medium', 'M0' FROM ({book.borrowers_overdue_or_due_between(':c', ':c_lead')}) x"
            f" WHERE {_not_open_yet(connection, plan)} ON CONFLICT (borrower_id) DO NOTHING"
        ),
        params,
    )
    return result.rowcount or 0


def _score_sql(dpd: str, due: str, ontime: str, paid_recent: str, kept: str, broken: str) -> str:
    """`rules.propensity` in integer SQL over the given expressions."""
    share = f"CASE WHEN {due} > 0 THEN {ontime} * 1000 / {due} ELSE 500 END"
    lateness = f"CASE WHEN ({dpd}) / 3 > 30 THEN 30 ELSE ({dpd}) / 3 END"
    kept_part = f"CASE WHEN {kept} * 10 > 20 THEN 20 ELSE {kept} * 10 END"
    broken_part = f"CASE WHEN {broken} * 10 > 30 THEN 30 ELSE {broken} * 10 END"
    raw = (
        f"(30 + 40 * ({share}) / 1000 - ({lateness})"
        f" + CASE WHEN {paid_recent} > 0 THEN 15 ELSE 0 END + ({kept_part}) - ({broken_part}))"
    )
    return f"(CASE WHEN {raw} < 5 THEN 5 WHEN {raw} > 95 THEN 95 ELSE {raw} END)"


def _refresh_overdue(connection: Connection, plan: _Plan, params: dict[str, Any]) -> int:
    """State, amounts, the score's inputs, the score and expected recovery of every overdue account in
    one UPDATE (each rewrite of a row costs a new row version and index entries on PostgreSQL)."""
    params = {**params, "d_30": params["d"] - timedelta(days=29)}
    if plan.dialect == "postgresql":
        # Its long CASE expressions make JIT compilation cost seconds for milliseconds saved.
        connection.exec_driver_sql("SET LOCAL jit = off")
    dpd = "o.dpd + 1"  # days past due on the contact day: one more than at the close of D
    bucket = _bucket_sql(dpd, plan.bounds)
    score = _score_sql(dpd, "o.due_lines", "o.ontime_lines", "o.paid_recent", "o.kept", "o.broken")
    result = connection.execute(
        _sql(
            "UPDATE collections_accounts SET state = 'overdue',"
            f" days_past_due = {dpd}, bucket = {bucket}, overdue_fen = o.owed,"
            " overdue_since = COALESCE(collections_accounts.overdue_since, :d), cured_on = NULL,"
            " worst_bucket = CASE WHEN collections_accounts.state = 'overdue'"
            f" AND collections_accounts.worst_bucket > {bucket}"
            f" THEN collections_accounts.worst_bucket ELSE {bucket} END,"
            " updated_on = :d, due_lines = o.due_lines, ontime_lines = o.ontime_lines,"
            " paid_last_30d = (o.paid_recent > 0), promises_kept = o.kept, promises_broken = o.broken,"
            f" propensity = {score}, expected_recovery_fen = o.owed * {score} / 100,"
            f" segment = CASE WHEN {score} < 35 THEN 'high' WHEN {score} >= 65 THEN 'low' ELSE 'medium' END"
            # Every input joined in set-based (no scalar subquery per account, each evaluated again
            # wherever the score repeats it): one pass over the overdue borrowers' lines, their
            # recent repayments and their promises judged.
            " FROM (SELECT g.borrower_id, g.dpd, g.owed, g.due_lines, g.ontime_lines,"
            "  COALESCE(p.repayments, 0) AS paid_recent, COALESCE(k.kept, 0) AS kept,"
            "  COALESCE(k.broken, 0) AS broken"
            f" FROM ({book.overdue_borrower_record(':d')}) g"
            f" LEFT JOIN ({book.repayment_counts_of_overdue_borrowers(':d_30', ':d')}) p"
            "  ON p.borrower_id = g.borrower_id"
            " LEFT JOIN (SELECT borrower_id,"
            "   SUM(CASE WHEN promise_status = 'kept' THEN 1 ELSE 0 END) AS kept,"
            "   SUM(CASE WHEN promise_status = 'broken' THEN 1 ELSE 0 END) AS broken"
            "   FROM collections_outcomes WHERE promise_status IN ('kept', 'broken') GROUP BY borrower_id) k"
            "  ON k.borrower_id = g.borrower_id) o"
            " WHERE collections_accounts.borrower_id = o.borrower_id"
        ),
        params,
    )
    return result.rowcount or 0


def _cure_accounts(connection: Connection, plan: _Plan, params: dict[str, Any]) -> int:
    borrower = "collections_accounts.borrower_id"
    result = connection.execute(
        _sql(
            "UPDATE collections_accounts SET"
            f" state = CASE WHEN {book.borrower_has_loan(borrower, 'written_off')}"
            " THEN 'closed' ELSE 'current' END,"
            " cured_on = :d, days_past_due = 0, bucket = 'M0', overdue_fen = 0, updated_on = :d,"
            " assigned_user_id = NULL"
            f" WHERE state = 'overdue' AND NOT {book.borrower_has_loan(borrower, 'overdue')}"
        ),
        params,
    )
    return result.rowcount or 0


def _judged_already(connection: Connection, plan: _Plan, params: dict[str, Any]) -> int:
    return 0


def judge_promises(connection: Connection, day: date) -> int:
    """Judge the promises as the close of `day` does (the demo's history judges its months at once)."""
    return _judge_promises(connection, None, {"d": day})


def _judge_promises(connection: Connection, plan: _Plan | None, params: dict[str, Any]) -> int:
    """A promise is kept when the borrower's repayments from the day it was made up to its date
    reach the amount; it is broken once its date has passed without that."""
    paid = book.borrower_repaid_fen(
        "collections_outcomes.borrower_id",
        "collections_outcomes.promised_on",
        "collections_outcomes.promise_date",
    )
    _rejudge_reversed(connection, paid, params)
    connection.execute(
        _sql(f"UPDATE collections_outcomes SET paid_fen = {paid} WHERE promise_status = 'open'"), params
    )
    result = connection.execute(
        _sql(
            "UPDATE collections_outcomes SET promise_status = CASE WHEN paid_fen >= promise_amount_fen"
            " THEN 'kept' ELSE 'broken' END"
            " WHERE promise_status = 'open' AND (paid_fen >= promise_amount_fen OR promise_date <= :d)"
        ),
        params,
    )
    return result.rowcount or 0


REJUDGE_DAYS = 90  # a reversal up to this long after a promise's date still breaks it


def _rejudge_reversed(connection: Connection, paid: str, params: dict[str, Any]) -> int:
    """A later reversal makes a kept promise broken: kept promises of recent dates whose borrower
    had a repayment reversed inside the promise's window are judged again from what is still paid
    (broken once the date has passed, open again before it)."""
    reversed_inside = book.borrower_has_reversal(
        "collections_outcomes.borrower_id",
        "collections_outcomes.promised_on",
        "collections_outcomes.promise_date",
    )
    result = connection.execute(
        _sql(
            f"UPDATE collections_outcomes SET paid_fen = {paid},"
            f" promise_status = CASE WHEN {paid} >= promise_amount_fen THEN 'kept'"
            " WHEN promise_date <= :d THEN 'broken' ELSE 'open' END"
            " WHERE promise_status = 'kept' AND promise_date >= :d_rejudge"
            f" AND {reversed_inside} AND {paid} < promise_amount_fen"
        ),
        {**params, "d_rejudge": params["d"] - timedelta(days=REJUDGE_DAYS)},
    )
    return result.rowcount or 0


def _overdue_on_step(step: CollectionStep) -> str:
    """Overdue loans on the step's day(s) past due on the contact day C. The cohort's due dates
    (C − last day … C − first day, bound as :cohort_first and :cohort_last) select one index range;
    the days past due, one more on C than at the close of D, decide within it."""
    offset = f"({LOANS.days_past_due} + 1)"
    cohort = LOANS.overdue_since_between(":cohort_first", ":cohort_last")
    if step.until_day is None or step.every is None:
        return f"{cohort} AND {offset} = {step.day}"
    in_range = f"{offset} >= {step.day} AND {offset} <= {step.until_day}"
    return f"{cohort} AND {in_range} AND ({offset} - {step.day}) % {step.every} = 0"


def _cohort(step: CollectionStep, contact_day: date) -> dict[str, date]:
    last_day = step.day if step.until_day is None or step.every is None else step.until_day
    return {
        "cohort_first": contact_day - timedelta(days=last_day),
        "cohort_last": contact_day - timedelta(days=step.day),
    }


def _segments(step: CollectionStep) -> str:
    return ", ".join(f"'{segment}'" for segment in step.segments)


def _distinct_steps(plan: _Plan, *, automated: bool) -> list[tuple[CollectionStep, str]]:
    """Each step once, with the strategies that share it (champion and challenger mostly do): one
    statement per distinct step instead of one per strategy."""
    shared: dict[str, tuple[CollectionStep, list[str]]] = {}
    for strategy in plan.policy.strategies:
        for step in strategy.steps:
            if step.automated == automated:
                shared.setdefault(step.model_dump_json(), (step, []))[1].append(strategy.name)
    return [(step, ", ".join(_quoted(name) for name in names)) for step, names in shared.values()]


def _schedule_messages(connection: Connection, plan: _Plan, params: dict[str, Any]) -> int:
    total = 0
    for step, strategies in _distinct_steps(plan, automated=True):
        if step.day <= 0:
            loans = LOANS.current_and_due_on(":c_step") + (
                f" AND {LOANS.without_auto_debit()}" if step.skip_auto_debit else ""
            )
            amount = LOANS.owed_on_next_due_date()
            due = LOANS.next_due_on
            step_params = {**params, "c_step": params["c"] + timedelta(days=-step.day)}
        else:
            loans = _overdue_on_step(step)
            amount = LOANS.owed_due_by(":d")
            due = LOANS.oldest_unpaid_due_on
            step_params = {**params, **_cohort(step, params["c"])}
        key = f"CAST(:key_prefix AS VARCHAR(40)) || CAST({LOANS.id} AS VARCHAR(20))"
        channel = _channel_sql(step.channel)
        statement = (
            "INSERT INTO collections_contacts (borrower_id, loan_id, recipient, channel, source, status,"
            " text, codes, violations, strategy, arm, step, script, plan_key, amount_fen, due_on,"
            " local_date, actor_name, created_at)"
            f" SELECT {LOANS.borrower_id}, {LOANS.id}, 'self', {channel}, 'plan', 'scheduled', '',"
            " '[]', '[]',"
            f" a.strategy, a.arm, '{step.name}', {_quoted(step.script)}, {key}, {amount}, {due},"
            " :c, 'system:collections-plan', :now"
            f" FROM {LOANS.source} CROSS JOIN collections_accounts a"  # loans first (see _build_worklist)
            f" WHERE a.borrower_id = {LOANS.borrower_id} AND {loans} AND a.strategy IN ({strategies})"
            f" AND a.segment IN ({_segments(step)})"
            f" AND NOT EXISTS (SELECT 1 FROM collections_holds h WHERE h.borrower_id = {LOANS.borrower_id}"
            " AND h.released_at IS NULL)"
            " AND NOT EXISTS (SELECT 1 FROM collections_contacts k WHERE k.plan_key = " + key + ")"
        )
        key_prefix = f"{params['c'].isoformat()}/{step.name}/"
        result = connection.execute(
            _sql(statement), {**step_params, "now": utcnow(), "key_prefix": key_prefix}
        )
        total += result.rowcount or 0
    return total


def _channel_sql(step_channel: str) -> str:
    """A message step goes on the channel the borrower chose (sms, app, or e-mail when on file);
    calls and robocalls stay what the strategy says."""
    if step_channel not in MESSAGE_CHANNELS:
        return _quoted(step_channel)
    return book.preferred_message_channel(LOANS.borrower_id, step_channel)


MESSAGE_CHANNELS = ("sms", "email", "app")


def _quoted(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _build_worklist(connection: Connection, plan: _Plan, params: dict[str, Any]) -> int:
    _assign_collectors(connection, plan, params)
    total = 0
    for step, strategies in _distinct_steps(plan, automated=False):
        key = "CAST(:key_prefix AS VARCHAR(20)) || CAST(a.id AS VARCHAR(20))"
        # Driven from the overdue loans (an index), one line per account however many loans fire.
        result = connection.execute(
            _sql(
                "INSERT INTO collections_worklist (work_date, account_id, borrower_id, user_id,"
                " step, rank, expected_recovery_fen, done, plan_key)"
                f" SELECT DISTINCT :c, a.id, a.borrower_id, a.assigned_user_id, '{step.name}', 0,"
                f" a.expected_recovery_fen, FALSE, {key}"
                # CROSS JOIN: SQLite keeps the loans (filtered by their index) as the outer loop.
                f" FROM {LOANS.source} CROSS JOIN collections_accounts a"
                f" WHERE a.borrower_id = {LOANS.borrower_id} AND {_overdue_on_step(step)}"
                f" AND a.state = 'overdue' AND a.strategy IN ({strategies})"
                f" AND a.segment IN ({_segments(step)})"
                " AND NOT EXISTS (SELECT 1 FROM collections_holds h WHERE h.borrower_id = a.borrower_id"
                " AND h.released_at IS NULL)"
                f" AND NOT EXISTS (SELECT 1 FROM collections_worklist w WHERE w.plan_key = {key})"
            ),
            {**params, **_cohort(step, params["c"]), "key_prefix": f"{params['c'].isoformat()}/"},
        )
        total += result.rowcount or 0
    return total


def _rank_worklist(connection: Connection, plan: _Plan, params: dict[str, Any]) -> int:
    """Each collector's lines of the contact day by expected recovery, highest first.

    A transaction of its own, after the lines' INSERT has committed: PostgreSQL checks the foreign
    keys of a row updated in the transaction that inserted it again, even when they did not change
    (half of this statement's time at 1,000,000 loans); a row from an earlier transaction with its
    keys unchanged is not checked. A crash in between leaves ranks of 0 that the re-run sets.
    """
    result = connection.execute(
        _sql(
            "UPDATE collections_worklist SET rank = r.position, user_id = r.user_id FROM ("
            " SELECT w.id, a.assigned_user_id AS user_id, ROW_NUMBER() OVER (PARTITION BY a.assigned_user_id"
            " ORDER BY w.expected_recovery_fen DESC, w.id) AS position"
            " FROM collections_worklist w JOIN collections_accounts a ON a.id = w.account_id"
            " WHERE w.work_date = :c) r WHERE collections_worklist.id = r.id"
        ),
        params,
    )
    return result.rowcount or 0


def _assign_collectors(connection: Connection, plan: _Plan, params: dict[str, Any]) -> None:
    """Keep each overdue account with its collector while they cover its bucket; hand the others
    out bucket by bucket, highest expected recovery first, to the least-loaded covering collectors."""
    collectors = connection.execute(
        text("SELECT id, username FROM users WHERE role = 'collector' AND active ORDER BY id")
    ).all()
    coverage = {
        row.id: set(plan.policy.collector_buckets.get(row.username, bucket_labels(plan.bounds)))
        for row in collectors
    }
    # Buckets covered by the same collectors are handed out together (by default: all of them).
    groups: dict[tuple[int, ...], list[str]] = {}
    for bucket in bucket_labels(plan.bounds)[1:]:
        covering = tuple(user_id for user_id, buckets in coverage.items() if bucket in buckets)
        groups.setdefault(covering, []).append(bucket)
    for covering, buckets in groups.items():
        in_buckets = ", ".join(f"'{bucket}'" for bucket in buckets)
        covering_list = ", ".join(str(user_id) for user_id in covering) or "NULL"
        connection.execute(
            _sql(
                "UPDATE collections_accounts SET assigned_user_id = NULL WHERE state = 'overdue'"
                f" AND bucket IN ({in_buckets}) AND assigned_user_id IS NOT NULL"
                f" AND assigned_user_id NOT IN ({covering_list})"
            )
        )
        if not covering:
            continue
        loads = dict(
            connection.execute(
                text(
                    "SELECT assigned_user_id, COUNT(*) FROM collections_accounts WHERE state = 'overdue'"
                    f" AND assigned_user_id IN ({covering_list}) GROUP BY assigned_user_id"
                )
            ).all()
        )
        order = sorted(covering, key=lambda user_id: (loads.get(user_id, 0), user_id))
        slots = " ".join(f"WHEN {index} THEN {user_id}" for index, user_id in enumerate(order))
        connection.execute(
            _sql(
                f"UPDATE collections_accounts SET assigned_user_id = CASE n.slot {slots} END FROM ("
                " SELECT id, (ROW_NUMBER() OVER (ORDER BY expected_recovery_fen DESC, id) - 1)"
                f" % {len(order)} AS slot FROM collections_accounts"
                f" WHERE state = 'overdue' AND bucket IN ({in_buckets}) AND assigned_user_id IS NULL) n"
                " WHERE collections_accounts.id = n.id"
            )
        )
