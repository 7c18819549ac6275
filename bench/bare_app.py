"""The ceiling for HTTP benchmarks: a bare FastAPI app that parses and answers the same shape of
request as the desk's inbound intake, with no database. Served by uvicorn like the real app."""

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
