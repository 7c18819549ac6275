"""HTTP API of the assistant room: thin routes over assistant.service.

The routes are public (the borrower's side) and rate-limited: messages per session and per client
address (policy [assistant]), official-number checks per address like sign-ins. A chat session is
named by its token (assistant/tokens.py), sent in a cookie or the `X-Chat-Token` header, never in
a URL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.assistant import schemas, service, tokens
from lenddesk.core import auth, throttle
from lenddesk.core.errors import NotFound, Unprocessable
from lenddesk.core.http import client_address, db_session, errors, request_now
from lenddesk.core.policy import get_policy
from lenddesk.core.settings import get_settings

router = APIRouter(prefix="/api/v1/assistant", tags=["assistant"])


Now = Depends(request_now)


@router.post(
    "/messages",
    response_model=schemas.MessageOut,
    summary="Send a borrower's chat message and get the assistant's answer",
    responses=errors(400, 422, 429),
    dependencies=[auth.public()],
)
async def post_message(
    body: schemas.MessageIn, request: Request, response: Response, now: datetime = Now
) -> schemas.MessageOut:
    token = _token_of(request, required=False)
    if token is None:  # a new chat: its token goes back in the cookie and the header
        token = tokens.new_token()
        response.headers[tokens.HEADER] = token
    # One trip to a worker thread for the whole transaction (committed there), as the desk's intake.
    outcome = await run_in_threadpool(
        _message_transaction,
        request.app.state.session_factory,
        tokens.public_id_of(token),
        body,
        client_address(request),
        now,
    )
    response.set_cookie(
        tokens.COOKIE,
        token,
        max_age=tokens.COOKIE_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return schemas.MessageOut(**outcome.__dict__)


def _token_of(request: Request, *, required: bool) -> str | None:
    header = request.headers.get(tokens.HEADER)
    if header is not None and not tokens.well_formed(header):
        raise Unprocessable("会话令牌无效", "Invalid chat token (X-Chat-Token)", code="bad_chat_token")
    token = tokens.presented(header, request.cookies.get(tokens.COOKIE))
    if token is None and required:
        raise NotFound("会话不存在", "No such chat session", code="chat_not_found")
    return token


def _message_transaction(
    session_factory: sessionmaker[Session],
    public_id: str,
    body: schemas.MessageIn,
    address: str,
    now: datetime,
) -> service.ChatOutcome:
    with session_factory() as session:
        outcome = service.post_message(session, public_id=public_id, text=body.text, address=address, now=now)
        session.commit()
        return outcome


@router.get(
    "/messages",
    response_model=schemas.ChatLinesOut,
    summary="The messages of the caller's chat session (token in the cookie or X-Chat-Token) after a number",
    responses=errors(404, 422),
    dependencies=[auth.public()],
)
def chat_messages(
    request: Request,
    session: Session = db_session,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> schemas.ChatLinesOut:
    token = _token_of(request, required=True)
    assert token is not None
    session_id = tokens.public_id_of(token)
    service.find_session(session, session_id)
    lines = service.messages_after(session, public_id=session_id, after=after)
    return schemas.ChatLinesOut(
        session_id=session_id,
        lines=[schemas.ChatLineOut.model_validate(line, from_attributes=True) for line in lines],
    )


@router.get(
    "/verify-official",
    response_model=schemas.OfficialOut,
    summary="Is this phone number or staff badge number an official one of ours?",
    responses=errors(422, 429),
    dependencies=[auth.public()],
)
def verify_official(
    request: Request,
    session: Session = db_session,
    now: datetime = Now,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    badge: Annotated[str | None, Query(max_length=16)] = None,
) -> schemas.OfficialOut:
    if (phone is None) == (badge is None):
        raise Unprocessable(
            "请提供 phone 或 badge（工号）其中一个",
            "Give exactly one of phone or badge (the staff number)",
            code="one_of",
        )
    _count_lookup(session, client_address(request), now)
    check = service.check_phone(phone) if phone is not None else service.check_badge(session, badge or "")
    return schemas.OfficialOut(**check.__dict__)


def _count_lookup(session: Session, address: str, now: datetime) -> None:
    minutes = get_policy().auth.throttle_minutes
    window = throttle.Window.at(now, minutes)
    counter = throttle.throttle_for(get_settings().redis_url, minutes)
    if (
        counter.hit(session, f"official:{address}"[:64], window)
        > get_policy().assistant.address_messages_per_window
    ):
        raise service.TooManyMessages(
            "查询过于频繁，请稍后再试", "Too many look-ups; try again later", code="lookup_rate_limited"
        )
