"""The ceiling for bench/collections_plan.py: a bare FastAPI app that parses and answers the same shape of
request as the collections what-if check (bearer header, JSON body, a verdict back), with no
database and no guard. Served by uvicorn like the real app."""

from __future__ import annotations

from fastapi import FastAPI, Header
from pydantic import BaseModel

app = FastAPI()


class CheckIn(BaseModel):
    borrower_id: int
    recipient: str = "self"
    channel: str
    at: str
    text: str


class CheckOut(BaseModel):
    allowed: bool
    violations: list[dict[str, str]]


@app.post("/api/v1/collections/check")
def check(body: CheckIn, authorization: str = Header()) -> CheckOut:
    return CheckOut(allowed=bool(body.text and authorization), violations=[])
