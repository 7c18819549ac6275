"""Reads of the risk room: a borrower's score with its reasons, and the figures of the home page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from lenddesk.risk import score as scoring
from lenddesk.risk.models import Alert, BlacklistEntry, Profile, ScoreRun
from lenddesk.risk.service._common import identity_of, risk_policy


@dataclass(frozen=True)
class BorrowerScore:
    borrower_id: int
    score: int
    band: str
    reasons: tuple[scoring.Reason, ...]
    scored_on: date | None


def behaviour_of(profile: Profile) -> scoring.Behaviour:
    return scoring.Behaviour(**{name: getattr(profile, name) for name in scoring.Behaviour.names()})


def borrower_score(session: Session, *, borrower_id: int) -> BorrowerScore:
    """The score of the last close (0, low, no reasons before the first), with its top reasons."""
    identity_of(session, borrower_id)  # 404 for no such borrower
    profile = session.scalar(select(Profile).where(Profile.borrower_id == borrower_id))
    if profile is None or profile.scored_on is None:
        return BorrowerScore(borrower_id, 0, "low", (), None)
    twin = scoring.score(behaviour_of(profile), scoring.Weights.of(risk_policy()))
    # Score and band as the close stored them; the reasons from the same inputs by the pure twin.
    # The close rewrites only the profiles whose score changed, so the date a profile holds is when
    # it last changed: it was scored again by every close since, the last being the latest run done.
    last_run = session.scalar(select(func.max(ScoreRun.business_date)).where(ScoreRun.status == "done"))
    scored_on = max(profile.scored_on, last_run) if last_run is not None else profile.scored_on
    return BorrowerScore(borrower_id, profile.score, profile.band, twin.reasons, scored_on)


@dataclass(frozen=True)
class RiskFigures:
    open_alerts: int
    pending_blacklist: int
    high_band: int


def risk_figures(session: Session) -> RiskFigures:
    open_alerts = session.scalar(select(func.count()).select_from(Alert).where(Alert.status != "closed"))
    pending = session.scalar(
        select(func.count())
        .select_from(BlacklistEntry)
        .where(BlacklistEntry.status.in_(("pending", "removal_pending")))
    )
    high = session.scalar(select(func.count()).select_from(Profile).where(Profile.band == "high"))
    return RiskFigures(int(open_alerts or 0), int(pending or 0), int(high or 0))


def borrower_ids_in_band(band: str) -> Select:
    """Ids of borrowers the last close put in `band` (the care room's good-credit offers want `low`)."""
    return select(Profile.borrower_id).where(Profile.band == band)
