"""Consents to marketing and education messages: granted with evidence, revoked with evidence, kept
at least `consent_retention_days` (≥ 5 months) after the revocation, then purged by the daily job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lenddesk.care import texts
from lenddesk.care.models import Consent
from lenddesk.care.service._common import CHANNELS, care_policy, lock_profile, require_borrower
from lenddesk.core import audit
from lenddesk.core.errors import Conflict, NotFound, Unprocessable

EVIDENCE_MAX = 2000


@dataclass(frozen=True)
class ConsentView:
    id: int
    borrower_id: int
    purpose: str
    channel: str
    evidence: str
    granted_at: datetime
    granted_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_evidence: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _view(consent: Consent) -> ConsentView:
    return ConsentView(
        consent.id,
        consent.borrower_id,
        consent.purpose,
        consent.channel,
        consent.evidence,
        consent.granted_at,
        consent.granted_by,
        consent.revoked_at,
        consent.revoked_by,
        consent.revocation_evidence,
    )


def _check_evidence(evidence: str) -> str:
    evidence = evidence.strip()
    if not evidence:
        raise Unprocessable("须提供同意或撤回的凭证", "Evidence is required", code="evidence_required")
    if len(evidence) > EVIDENCE_MAX:
        raise Unprocessable(
            f"凭证过长（最多 {EVIDENCE_MAX} 字）",
            f"Evidence too long (at most {EVIDENCE_MAX})",
            code="evidence_too_long",
        )
    if any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in evidence):
        raise Unprocessable("凭证含有无效字符", "The evidence holds invalid characters", code="bad_text")
    return evidence


def _check_purpose_and_channel(purpose: str, channel: str) -> None:
    if purpose not in texts.PURPOSES:
        raise Unprocessable(
            "用途须为 marketing（营销）或 education（教育）",
            "purpose must be marketing or education",
            code="unknown_purpose",
        )
    if channel not in CHANNELS:
        raise Unprocessable(
            f"渠道须为 {'、'.join(CHANNELS)} 之一",
            f"channel must be one of {', '.join(CHANNELS)}",
            code="unknown_channel",
        )


def grant_consent(
    session: Session,
    *,
    actor: audit.Actor,
    borrower_id: int,
    purpose: str,
    channel: str,
    evidence: str,
    now: datetime,
) -> tuple[ConsentView, bool]:
    """Record a consent; (the consent, created). An active consent for the same purpose and channel is
    returned as it is (created False): consenting twice changes nothing."""
    _check_purpose_and_channel(purpose, channel)
    evidence = _check_evidence(evidence)
    lock_profile(session, borrower_id)
    existing = session.scalar(
        select(Consent).where(
            Consent.borrower_id == borrower_id,
            Consent.purpose == purpose,
            Consent.channel == channel,
            Consent.revoked_at.is_(None),
        )
    )
    if existing is not None:
        return _view(existing), False
    consent = Consent(
        borrower_id=borrower_id,
        purpose=purpose,
        channel=channel,
        evidence=evidence,
        granted_at=now,
        granted_by=actor.name,
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor,
        "care.consent.grant",
        ("care_consent", consent.id),
        None,
        {"borrower_id": borrower_id, "purpose": purpose, "channel": channel},
    )
    return _view(consent), True


def revoke_consent(
    session: Session, *, actor: audit.Actor, borrower_id: int, consent_id: int, evidence: str, now: datetime
) -> ConsentView:
    """Revoke a consent (with the evidence of the revocation); the record stays for the retention."""
    evidence = _check_evidence(evidence)
    lock_profile(session, borrower_id)
    consent = session.scalar(
        select(Consent)
        .where(Consent.id == consent_id, Consent.borrower_id == borrower_id)
        .execution_options(populate_existing=True)
    )
    if consent is None:
        raise NotFound(
            f"同意记录不存在：{consent_id}", f"No such consent: {consent_id}", code="consent_not_found"
        )
    if consent.revoked_at is not None:
        raise Conflict("该同意已撤回", "The consent is already revoked", code="consent_revoked")
    consent.revoked_at, consent.revoked_by, consent.revocation_evidence = now, actor.name, evidence
    session.flush()
    audit.record(
        session,
        actor,
        "care.consent.revoke",
        ("care_consent", consent.id),
        {"revoked_at": None},
        {"revoked_at": now},
    )
    return _view(consent)


def list_consents(session: Session, *, borrower_id: int) -> list[ConsentView]:
    require_borrower(session, borrower_id)
    rows = session.scalars(select(Consent).where(Consent.borrower_id == borrower_id).order_by(Consent.id))
    return [_view(row) for row in rows]


def purge_revoked_consents(session: Session, *, now: datetime) -> int:
    """Delete consents revoked more than `consent_retention_days` ago (never one still in retention)."""
    cutoff = now - timedelta(days=care_policy().consent_retention_days)
    result = session.execute(
        delete(Consent).where(Consent.revoked_at.is_not(None), Consent.revoked_at < cutoff)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def consented_borrower_ids(purpose: str, channel: str):
    """Ids of borrowers with an active consent for `purpose` on `channel` (set-based)."""
    return select(Consent.borrower_id).where(
        Consent.purpose == purpose, Consent.channel == channel, Consent.revoked_at.is_(None)
    )
