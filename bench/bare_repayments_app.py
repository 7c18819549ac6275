"""The ceiling for bench/repayments.py: a bare FastAPI app that parses and answers the same shape of
request as the ledger's repayment posting (bearer header, JSON body, a repayment back), with no
database. Served by uvicorn like the real app."""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI, Header
from pydantic import BaseModel

app = FastAPI()


class RepaymentIn(BaseModel):
    contract_number: str
    channel: str
    external_reference: str
    amount: str
    value_date: date
    kind: str = "regular"


class RepaymentOut(BaseModel):
    id: int
    contract_number: str
    channel: str
    external_reference: str
    amount: str
    value_date: date
    kind: str
    status: str
    posted_by: str
    allocation: list[dict[str, int]]
    duplicate: bool


@app.post("/api/v1/ledger/repayments", status_code=201)
def post_repayment(body: RepaymentIn, authorization: str = Header()) -> RepaymentOut:
    return RepaymentOut(
        id=1,
        contract_number=body.contract_number,
        channel=body.channel,
        external_reference=body.external_reference,
        amount=body.amount,
        value_date=body.value_date,
        kind=body.kind,
        status="posted",
        posted_by="agent" if authorization else "",
        allocation=[{"period": 1, "penalty": 0, "late_fee": 0, "interest": 100, "principal": 0}],
        duplicate=False,
    )
