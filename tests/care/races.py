"""The care write paths under simultaneous callers, for SQLite and PostgreSQL alike
(tests/care/test_races.py and tests/integration/test_care_races_postgres.py).

Each scenario gets a migrated database URL with one user per role (named after the role)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.care import service
from lenddesk.care.models import Campaign, Consent, Send
from lenddesk.core import audit
from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.models import User
from lenddesk.desk.models import OutboxMessage
from tests.care.conftest import NOW, SIGNED, make_borrowers
from tests.desk.races import only_refusals, run_together


def _prepare(url: str, borrowers: int = 6):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    ids = make_borrowers(engine, borrowers)
    factory = session_factory(engine)
    with factory() as session:
        actors = {
            role: audit.Actor.of(session.scalar(select(User).where(User.username == role)))
            for role in ("team_lead", "compliance", "admin")
        }
    return factory, ids, actors


def _approved_campaign(factory, ids: list[int], actors) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        for borrower in ids:
            service.grant_consent(
                session, actor=actors["team_lead"], borrower_id=borrower, purpose="marketing", channel="sms",
                evidence="App 勾选同意", now=NOW,
            )  # fmt: skip
        campaign = service.create_campaign(
            session, actor=actors["team_lead"], name="元旦问候", kind="greeting", channel="sms", text=SIGNED,
            audience={"borrower_ids": ids}, send_on=None, now=NOW,
        )  # fmt: skip
        session.flush()
        service.approve_campaign(session, actor=actors["compliance"], campaign_id=campaign.id, now=NOW)
        session.commit()
        return campaign.id


def concurrent_launches_queue_each_borrower_once(url: str) -> None:
    """Six launches of one campaign at once: every borrower is queued once, the counters add up."""
    factory, ids, actors = _prepare(url)
    campaign_id = _approved_campaign(factory, ids, actors)

    def launch(session: Session) -> int:
        return service.launch_campaign(
            session, actor=actors["team_lead"], campaign_id=campaign_id, now=NOW
        ).queued

    outcome = run_together(factory, [launch] * 6)
    only_refusals(outcome)
    assert sum(outcome.results) == len(ids)
    with factory() as session:
        sends = session.scalars(select(Send.borrower_id).where(Send.campaign_id == campaign_id)).all()
        assert sorted(sends) == sorted(ids)
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == len(ids)
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None and campaign.sent == len(ids) and campaign.launches == 6


def concurrent_consents_record_one(url: str) -> None:
    """The same consent posted six times at once: one active consent."""
    factory, ids, actors = _prepare(url, borrowers=1)

    def grant(session: Session) -> bool:
        return service.grant_consent(
            session, actor=actors["team_lead"], borrower_id=ids[0], purpose="marketing", channel="sms",
            evidence="短信回复 Y", now=NOW,
        )[1]  # fmt: skip

    outcome = run_together(factory, [grant] * 6)
    only_refusals(outcome)
    assert sorted(outcome.results) == [False] * 5 + [True]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Consent)) == 1


def approvals_at_once_approve_once(url: str) -> None:
    """Compliance and an admin approve the same draft at once: one approval, the other is told."""
    factory, ids, actors = _prepare(url, borrowers=1)
    with factory() as session:
        campaign = service.create_campaign(
            session, actor=actors["team_lead"], name="x", kind="greeting", channel="sms", text=SIGNED,
            audience={"borrower_ids": ids}, send_on=None, now=NOW,
        )  # fmt: skip
        session.commit()
        campaign_id = campaign.id

    def approve(actor: audit.Actor):  # type: ignore[no-untyped-def]
        return lambda session: (
            service.approve_campaign(session, actor=actor, campaign_id=campaign_id, now=NOW).id
        )

    outcome = run_together(factory, [approve(actors["compliance"]), approve(actors["admin"])])
    only_refusals(outcome, "not_a_draft")
    assert len(outcome.results) == 1 and len(outcome.errors) == 1


SCENARIOS = [
    concurrent_launches_queue_each_borrower_once,
    concurrent_consents_record_one,
    approvals_at_once_approve_once,
]
