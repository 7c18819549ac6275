"""Repayment posting over HTTP (POST /api/v1/ledger/repayments), the ledger's hot path.

A router of its own so that the app tries it among its first routes (`app.ROUTER_MODULES`): FastAPI
tries the routes in turn, and behind the desk's and the ledger's others it spent about 0.25 ms of
each posting matching paths. The ledger's other routes, the reversals of repayments among them,
are in `ledger.api`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core import auth
from lenddesk.core.calendar import business_today
from lenddesk.core.http import errors
from lenddesk.ledger import service
from lenddesk.ledger.api import Ticket, repayment_out
from lenddesk.ledger.roles import POSTERS
from lenddesk.ledger.schemas import RepaymentIn, RepaymentOut

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])


@router.post(
    "/repayments",
    response_model=RepaymentOut,
    status_code=201,
    summary="Post a repayment (idempotent per channel and reference)",
    responses=errors(400, 401, 403, 404, 409, 422),
)
async def post_repayment(
    body: RepaymentIn,
    request: Request,
    response: Response,
    ticket: Ticket = None,
    signed_in: auth.SignedIn = auth.allow_for_own_transaction(*POSTERS),
) -> RepaymentOut:
    """Post a payment; the same (channel, external_reference) again answers 200 with the first result."""
    # The hot path: the whole transaction in one trip to a worker thread, on its own session (no
    # session dependency, whose set-up and exit would take a trip each). On SQLite the write gate is
    # held until COMMIT, so no trip back to the event loop may sit inside it.
    posted = await run_in_threadpool(
        _post_repayment_and_commit, request.app.state.session_factory, body, signed_in, ticket
    )
    if posted.duplicate:
        response.status_code = 200
    return posted


def _post_repayment_and_commit(
    session_factory: sessionmaker[Session], body: RepaymentIn, signed_in: auth.SignedIn, ticket: str | None
) -> RepaymentOut:
    with session_factory() as session:
        caller = signed_in.caller(session)
        result = service.post_repayment_as_staff(  # the access rule of `api._gate`, at less cost
            session,
            actor=caller,
            case_reference=ticket,
            surface="api",
            contract_number=body.contract_number,
            channel=body.channel,
            external_reference=body.external_reference,
            amount_fen=body.amount,
            value_date=body.value_date,
            today=business_today(),
            kind=body.kind,
        )
        session.commit()
    # Answered after COMMIT: the write gate (SQLite) or the loan's lock is not held meanwhile.
    return repayment_out(result.posted, body.contract_number.strip().upper(), result.duplicate)
