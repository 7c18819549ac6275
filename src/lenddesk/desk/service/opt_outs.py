"""Channel opt-outs (退订): recorded once per channel and address, read before any outbound contact."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.desk.models import OptOut
from lenddesk.desk.service._common import normalise_sender, to_simplified

# What a borrower replies to stop messages: 退订 and its variants, TD / T / N / STOP / unsubscribe.
_OPT_OUT_REPLY = re.compile(
    r"^\s*(退订|回?TD|T|N|STOP|UNSUBSCRIBE|取消订阅|拒收)\s*[。.!！]?\s*$", re.IGNORECASE
)


def is_opt_out_reply(text: str) -> bool:
    """Whether an inbound message is a request to stop messages on its channel."""
    return bool(_OPT_OUT_REPLY.match(to_simplified(unicodedata.normalize("NFKC", text or ""))))


def record_opt_out(
    session: Session, *, channel: str, address: str, borrower_id: int | None, source: str, now: datetime
) -> None:
    """Opt `address` out of `channel` (idempotent; a concurrent duplicate is absorbed by the unique key)."""
    values = {
        "channel": channel,
        "address": normalise_sender(address),
        "borrower_id": borrower_id,
        "source": source,
        "created_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(OptOut).values(**values).on_conflict_do_nothing(index_elements=["channel", "address"])
    )


def opted_out_channels(session: Session, *, borrower_id: int, addresses: tuple[str, ...] = ()) -> set[str]:
    """The channels a borrower has opted out of, by borrower id or by any of their addresses."""
    normalised = [normalise_sender(address) for address in addresses if address]
    condition = OptOut.borrower_id == borrower_id
    if normalised:
        condition = or_(condition, OptOut.address.in_(normalised))
    return set(session.scalars(select(OptOut.channel).where(condition)))
