"""The demo seed: every kind of desk data, and running it twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.desk import complaint_stages, jobs
from lenddesk.desk.models import Complaint, ComplaintStage, Macro, SlaPolicy, Team, Ticket


def counts(session: Session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Team, Macro, SlaPolicy, Ticket, Complaint, ComplaintStage)
    }


def test_demo_seed_covers_channels_breaches_and_every_complaint_stage_idempotently(session: Session) -> None:
    jobs.seed_demo(session, borrowers=0)
    session.commit()
    first = counts(session)
    assert first["desk_teams"] == 4 and first["desk_macros"] >= 5 and first["desk_tickets"] >= 50
    channels = set(session.scalars(select(Ticket.channel).distinct()))
    assert {"chat", "email", "wechat", "sms", "phone"} <= channels
    assert session.scalar(select(func.count()).where(Ticket.sla_state == "breached")) > 0
    stages = set(session.scalars(select(Complaint.stage).where(Complaint.closed_at.is_(None))))
    assert stages == set(complaint_stages.STAGES)
    assert session.scalar(select(func.count()).where(Complaint.root_cause.is_not(None))) > 0
    jobs.seed_demo(session, borrowers=0)
    session.commit()
    assert counts(session) == first


def test_demo_tickets_name_seeded_borrowers_as_candidates(session: Session, borrower) -> None:
    jobs.seed_demo(session, borrowers=10)
    session.commit()
    assert session.scalar(select(func.count()).where(Ticket.candidate_borrower_id == borrower.id)) > 0
