"""Channel opt-outs (退订): recorded once per channel, address and scope, read before any outbound contact.

A scope says what the opt-out stops: `all` (every message on the channel: reminders, notices,
surveys, marketing) or `marketing` (greetings and offers only). A 退订 / TD replying to a marketing
message is a marketing opt-out — the borrower still gets their repayment reminders
(`reply_scope`); any other opt-out is `all`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.desk.models import OptOut, OutboxMessage
from lenddesk.desk.service._common import normalise_sender, to_simplified

# What a borrower replies to stop messages: 退订 and its variants, TD / T / N / STOP / unsubscribe.
_OPT_OUT_REPLY = re.compile(
    r"^\s*(退订|回?TD|T|N|STOP|UNSUBSCRIBE|取消订阅|拒收)\s*[。.!！]?\s*$", re.IGNORECASE
)


def is_opt_out_reply(text: str) -> bool:
    """Whether an inbound message is a request to stop messages on its channel."""
    return bool(_OPT_OUT_REPLY.match(to_simplified(unicodedata.normalize("NFKC", text or ""))))


SCOPES = ("all", "marketing")
# The outbox kind of a marketing message (the care room's greetings and offers).
MARKETING_KIND = "marketing"


def record_opt_out(
    session: Session,
    *,
    channel: str,
    address: str,
    borrower_id: int | None,
    source: str,
    now: datetime,
    scope: str = "all",
) -> None:
    """Opt `address` out of `channel` for `scope` (idempotent; a concurrent duplicate is absorbed by the
    unique key)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown opt-out scope {scope!r}")
    values = {
        "scope": scope,
        "channel": channel,
        "address": normalise_sender(address),
        "borrower_id": borrower_id,
        "source": source,
        "created_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(OptOut).values(**values).on_conflict_do_nothing(index_elements=["channel", "address", "scope"])
    )


def opted_out_channels(
    session: Session, *, borrower_id: int, addresses: tuple[str, ...] = (), scopes: tuple[str, ...] = ("all",)
) -> set[str]:
    """The channels a borrower has opted out of, by borrower id or by any of their addresses, in any of
    `scopes` (by default the opt-outs that stop service messages — reminders, notices, surveys)."""
    normalised = [normalise_sender(address) for address in addresses if address]
    condition = OptOut.borrower_id == borrower_id
    if normalised:
        condition = or_(condition, OptOut.address.in_(normalised))
    return set(session.scalars(select(OptOut.channel).where(condition, OptOut.scope.in_(scopes))))


def reply_scope(session: Session, *, channel: str, address: str) -> str:
    """What an opt-out reply from `address` stops: `marketing` when the last message we sent it on
    `channel` was marketing (the reply answers that), `all` otherwise."""
    last_kind = session.scalar(
        select(OutboxMessage.kind)
        .where(OutboxMessage.channel == channel, OutboxMessage.recipient == normalise_sender(address))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return "marketing" if last_kind == MARKETING_KIND else "all"


def opted_out_borrower_ids(channel: str, scopes: tuple[str, ...] = SCOPES) -> Select:
    """Ids of borrowers opted out of `channel` in any of `scopes` (opt-outs recorded by borrower), for
    another room's set-based statement."""
    return select(OptOut.borrower_id).where(
        OptOut.channel == channel, OptOut.scope.in_(scopes), OptOut.borrower_id.is_not(None)
    )
