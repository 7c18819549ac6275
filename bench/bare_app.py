"""The ceiling for HTTP benchmarks: a bare FastAPI app that parses and answers the same shape of
request as the desk's inbound intake (and the risk room's events), with no database. Served by
uvicorn like the real app."""

from __future__ import annotations

from fastapi import FastAPI, Header
from pydantic import BaseModel

app = FastAPI()


class Inbound(BaseModel):
    channel: str
    channel_message_id: str
    sender: str
    text: str
    received_at: str | None = None


class Accepted(BaseModel):
    ticket_number: str
    created: bool


@app.post("/api/v1/desk/inbound")
def inbound(body: Inbound, x_lenddesk_key: str = Header()) -> Accepted:
    return Accepted(ticket_number="T20261126-000001", created=bool(body.text and x_lenddesk_key))


class ActivityEvent(BaseModel):
    source: str
    event_id: str
    borrower_id: int
    kind: str
    at: str
    region: str
    amount: str | None = None
    device: str | None = None


class Recorded(BaseModel):
    id: int
    created: bool
    alerts: list[int]


@app.post("/api/v1/risk/events", status_code=201)
def risk_event(body: ActivityEvent, x_lenddesk_key: str = Header()) -> Recorded:
    """The ceiling for bench/risk_events.py: the risk room's event shape, no database."""
    return Recorded(id=body.borrower_id, created=bool(x_lenddesk_key), alerts=[])
