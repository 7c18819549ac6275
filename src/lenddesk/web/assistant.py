"""The web chat (`/chat`, public, for borrowers) and the assistant's console pages: the agents'
live chat workspace beside the ticket, and the admins' FAQ editor.

The chat page posts messages to `POST /api/v1/assistant/messages` and reads every line of the
conversation (its own, the bot's and the agent's) from `/chat/events`, a Server-Sent Events
stream numbered by message: after a reconnect the browser sends the last number it has
(`Last-Event-ID`) and gets everything after it, so nothing is lost. The stream polls the
database (every worker sees every message) and ends after `STREAM_SECONDS`; EventSource
reconnects by itself. The stream names its session by the token cookie (assistant/tokens.py), never
by the URL, and each worker process holds at most `event_streams_per_client` open streams per client
address and `event_streams_total` in all (policy [assistant]; 429 beyond).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session
from starlette.types import Receive, Scope, Send

from lenddesk.assistant import service, tokens
from lenddesk.assistant.intents import EMOTION_LABELS, INTENTS
from lenddesk.assistant.knowledge import PLACEHOLDERS
from lenddesk.assistant.models import ChatMessage
from lenddesk.core import audit, auth
from lenddesk.core.errors import LendDeskError, NotFound
from lenddesk.core.http import client_address, db_session
from lenddesk.core.models import User
from lenddesk.core.policy import get_policy
from lenddesk.core.roles import admits
from lenddesk.desk.roles import DESK, READERS
from lenddesk.web.console import add_nav, console_user, refused, render, request_time, templates

router = APIRouter(include_in_schema=False)

STREAM_SECONDS = 25.0
POLL_SECONDS = 0.5
AUTHOR_LABELS = {"borrower": "客户", "bot": "智能助手", "agent": "客服", "system": "系统"}

add_nav("在线会话", "/assistant/chats", *READERS, area="工单")
add_nav("知识库", "/assistant/faq", "admin", area="管理")


# --- the borrower's chat page ---------------------------------------------------------------------


@router.get("/chat", response_class=HTMLResponse, dependencies=[auth.public()])
def chat_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "assistant/chat.html", {})


def _line(message: ChatMessage) -> dict[str, Any]:
    return {
        "seq": message.seq,
        "author": message.author,
        "author_label": message.author_name or AUTHOR_LABELS.get(message.author, ""),
        "text": message.text,
        "at": message.created_at.isoformat(),
    }


def _lines_after(request: Request, public_id: str, after: int) -> list[dict[str, Any]]:
    with request.app.state.session_factory() as session:
        return [_line(m) for m in service.messages_after(session, public_id=public_id, after=after)]


class TooManyStreams(LendDeskError):
    status_code = 429
    default_code = "too_many_streams"


class StreamSlots:
    """Open event streams of this process, per client address and in all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._per_client: Counter[str] = Counter()

    def take(self, client: str, *, per_client: int, total: int) -> bool:
        with self._lock:
            if self._per_client[client] >= per_client or self._per_client.total() >= total:
                return False
            self._per_client[client] += 1
            return True

    def give_back(self, client: str) -> None:
        with self._lock:
            self._per_client[client] -= 1
            if self._per_client[client] <= 0:
                del self._per_client[client]


STREAMS = StreamSlots()


class _HeldStream(StreamingResponse):
    """A stream that gives its slot back however it ends (done, disconnected, cancelled)."""

    def __init__(self, content: AsyncIterator[str], release: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


@router.get("/chat/events", dependencies=[auth.public()])
async def chat_events(
    request: Request,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> StreamingResponse:
    """The borrower's stream: the session named by its token (cookie or header), never the URL."""
    token = tokens.presented(request.headers.get(tokens.HEADER), request.cookies.get(tokens.COOKIE))
    if token is None:
        raise NotFound("会话不存在", "No such chat session", code="chat_not_found")
    return _line_stream(request, tokens.public_id_of(token), after)


def _line_stream(request: Request, session_id: str, after: int) -> StreamingResponse:
    """The session's lines after `after` as Server-Sent Events, within the stream limits."""
    client, limits = client_address(request), get_policy().assistant
    if not STREAMS.take(client, per_client=limits.event_streams_per_client, total=limits.event_streams_total):
        raise TooManyStreams(
            "打开的会话连接过多，请关闭其他窗口后重试",
            "Too many open chat streams; close other windows and retry",
        )
    last_event = request.headers.get("last-event-id", "")
    if last_event.isdigit():
        after = max(after, min(int(last_event), 2**31 - 1))

    async def events() -> AsyncIterator[str]:
        seen, deadline = after, time.monotonic() + STREAM_SECONDS
        yield "retry: 1000\n\n"
        while time.monotonic() < deadline:
            if await request.is_disconnected():
                return
            for line in await run_in_threadpool(_lines_after, request, session_id, seen):
                seen = line["seq"]
                yield f"id: {seen}\nevent: line\ndata: {json.dumps(line, ensure_ascii=False)}\n\n"
            await asyncio.sleep(POLL_SECONDS)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return _HeldStream(
        events(), lambda: STREAMS.give_back(client), media_type="text/event-stream", headers=headers
    )


# --- the agent's chat workspace -------------------------------------------------------------------


@router.get("/assistant/chats", response_class=HTMLResponse)
def chats(request: Request, session: Session = db_session, user: User = console_user(*READERS)) -> Response:
    return render(
        request, "assistant/chats.html", user, chats=service.handed_off_sessions(session), intents=INTENTS
    )


def _workspace(
    request: Request, session: Session, user: User, public_id: str, *, error: str = "", status_code: int = 200
) -> Response:
    chat = service.find_session(session, public_id)
    lines = service.messages_after(session, public_id=public_id, after=0, limit=1000)
    last_borrower = next((m for m in reversed(lines) if m.author == "borrower"), None)
    return render(
        request,
        "assistant/workspace.html",
        user,
        status_code=status_code,
        chat=chat,
        lines=lines,
        last_borrower=last_borrower,
        labels=AUTHOR_LABELS,
        intents=INTENTS,
        emotions=EMOTION_LABELS,
        may_reply=admits(user.role, DESK),
        error=error,
        last_seq=lines[-1].seq if lines else 0,
    )


@router.get("/assistant/chats/{public_id}/events")
def workspace_events(
    public_id: str,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*READERS),
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> StreamingResponse:
    """The agent's live view of a chat: the same stream, by the session's public id, signed in."""
    service.find_session(session, public_id)
    return _line_stream(request, public_id, after)


@router.get("/assistant/chats/{public_id}", response_class=HTMLResponse)
def workspace(
    public_id: str, request: Request, session: Session = db_session, user: User = console_user(*READERS)
) -> Response:
    return _workspace(request, session, user, public_id)


@router.post("/assistant/chats/{public_id}/reply")
def workspace_reply(
    public_id: str,
    request: Request,
    text: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    try:
        service.agent_reply(
            session,
            actor=audit.Actor.of(user),
            agent_name=user.display_name,
            public_id=public_id,
            text=text,
            now=request_time(request),
        )
    except LendDeskError as exc:
        return _workspace(request, session, user, public_id, **refused(session, exc))
    return RedirectResponse(f"/assistant/chats/{public_id}", status_code=303)


# --- the admins' FAQ editor -----------------------------------------------------------------------


@router.get("/assistant/faq", response_class=HTMLResponse)
def faq_list(request: Request, session: Session = db_session, user: User = console_user("admin")) -> Response:
    return render(request, "assistant/faq.html", user, rows=service.list_entries(session), intents=INTENTS)


def _faq_form(
    request: Request, user: User, entry: dict[str, Any], *, error: str = "", status_code: int = 200
) -> Response:
    return render(
        request,
        "assistant/faq_edit.html",
        user,
        status_code=status_code,
        entry=entry,
        intents=INTENTS,
        placeholders=PLACEHOLDERS,
        error=error,
    )


@router.get("/assistant/faq/{code}", response_class=HTMLResponse)
def faq_edit(
    code: str, request: Request, session: Session = db_session, user: User = console_user("admin")
) -> Response:
    row = next((r for r in service.list_entries(session) if r.entry.code == code), None)
    entry = {"code": code, "intent": "other", "question": "", "variants": "", "answer": "", "active": True}
    if row is not None:
        e = row.entry
        entry = {
            "code": e.code,
            "intent": e.intent,
            "question": e.question,
            "variants": "\n".join(e.variants),
            "answer": e.answer,
            "active": e.active,
        }
    return _faq_form(request, user, entry)


@router.post("/assistant/faq/{code}")
def faq_save(
    code: str,
    request: Request,
    intent: str = Form("other"),
    question: str = Form(""),
    variants: str = Form(""),
    answer: str = Form(""),
    active: str = Form(""),
    session: Session = db_session,
    user: User = console_user("admin"),
) -> Response:
    try:
        service.save_entry(
            session,
            actor=audit.Actor.of(user),
            code=code,
            intent=intent,
            question=question,
            variants=variants.splitlines(),
            answer=answer,
            active=bool(active),
            now=request_time(request),
        )
    except LendDeskError as exc:
        shown = refused(session, exc)
        entry = {
            "code": code,
            "intent": intent,
            "question": question,
            "variants": variants,
            "answer": answer,
            "active": bool(active),
        }
        return _faq_form(request, user, entry, **shown)
    return RedirectResponse("/assistant/faq", status_code=303)
