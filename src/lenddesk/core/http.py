"""HTTP plumbing shared by every room: the per-request transaction, bounded parameter types, the
documented error responses, and the handlers that turn every failure a caller can cause into a
4xx with `{code, message_zh, message_en}` (never a 500)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from http import HTTPStatus
from types import TracebackType
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lenddesk.core.db import utcnow
from lenddesk.core.errors import LendDeskError
from lenddesk.core.policy import get_policy
from lenddesk.core.schemas import ErrorOut


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on any error."""
    factory = request.app.state.session_factory
    session: Session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Use this, not Depends(get_session): the transaction must end before the response is sent, so a
# failed commit becomes an error response instead of a 200 for work that was lost.
db_session = Depends(get_session, scope="function")


def clock_now(request: Request) -> datetime:
    """The request's time: now, unless a test pinned the clock with `app.state.desk_clock` (one clock
    for every room's API and console page)."""
    clock = getattr(request.app.state, "desk_clock", None)
    return clock() if clock is not None else utcnow()


async def request_now(request: Request) -> datetime:
    """`clock_now` as an API dependency (async: no trip to a thread)."""
    return clock_now(request)


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy, run uvicorn with --proxy-headers to see the real one)."""
    return request.client.host if request.client else "unknown"


# --- bounded parameters ---------------------------------------------------------------------------

# The largest integer a BIGINT (PostgreSQL) or INTEGER (SQLite) column holds. A larger id can name
# no row, and the database drivers refuse to even compare with it, so it is refused at the edge.
MAX_INT64 = 2**63 - 1

Id = Annotated[int, Path(ge=1, le=MAX_INT64, description="Row id, 1 … 2^63-1")]
Offset = Annotated[int, Query(ge=0, le=MAX_INT64, description="Rows to skip, 0 … 2^63-1")]
# A business date in a query. A schedule of 360 months from 9999-12-31 would run past the last date
# Python can hold, so dates are kept to a span no loan or ticket leaves.
Day = Annotated[
    date,
    Query(ge=date(1900, 1, 1), le=date(2199, 12, 31), description="A date, 1900-01-01 … 2199-12-31"),
]


# --- documented error responses -------------------------------------------------------------------

ERROR_DESCRIPTIONS = {
    400: "The request could not be read (e.g. a body that is not UTF-8 JSON)",
    401: "Not signed in, wrong credentials, or the token is invalid, expired or revoked",
    403: "The signed-in role may not do this, or the CSRF check failed",
    404: "The addressed record does not exist",
    409: "The request conflicts with the record's current state",
    422: "A field is missing, malformed or out of range (`details` names the fields)",
    429: "Too many attempts; try again later",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=errors(401, 403, 404, 422)`: the error answers a route documents, all `ErrorOut`."""
    return {status: {"model": ErrorOut, "description": ERROR_DESCRIPTIONS[status]} for status in statuses}


# --- error handlers -------------------------------------------------------------------------------


def _printable(text: str) -> str:
    # An unpaired surrogate cannot be encoded as UTF-8; echoing one back would break the answer.
    return text.encode("utf-8", "replace").decode("utf-8")


def _validation_body(exc: RequestValidationError) -> dict[str, object]:
    fields = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query"))
        fields.append({"field": _printable(location), "message": _printable(str(error.get("msg", "")))})
    names = ", ".join(f["field"] for f in fields if f["field"]) or "request"
    return {
        "code": "validation_error",
        "message_zh": f"请求参数不正确：{names}",
        "message_en": f"Invalid request fields: {names}",
        "details": fields,
    }


_HTTP_MESSAGES = {
    400: ("请求内容无法解析（例如不是 UTF-8 编码的 JSON）", "The request body could not be read"),
    404: ("没有这个地址", "No such path"),
    405: ("该地址不支持这种请求方法", "This path does not support this method"),
}


def _http_error_body(exc: StarletteHTTPException) -> dict[str, str]:
    phrase = HTTPStatus(exc.status_code).phrase
    message_zh, message_en = _HTTP_MESSAGES.get(exc.status_code, (f"请求无法处理（{phrase}）", phrase))
    return {
        "code": phrase.lower().replace(" ", "_").replace("-", "_"),
        "message_zh": message_zh,
        "message_en": message_en,
    }


def _raised_by_the_database(traceback: TracebackType | None) -> bool:
    while traceback is not None:
        if traceback.tb_frame.f_globals.get("__name__", "").startswith("sqlalchemy.engine"):
            return True
        traceback = traceback.tb_next
    return False


UNENCODABLE_TEXT = {
    "code": "unencodable_text",
    "message_zh": "文本含有无法编码的字符（例如不成对的代理字符），请检查输入",
    "message_en": "The text holds characters that cannot be encoded (such as an unpaired surrogate)",
}
OUT_OF_RANGE = {
    "code": "value_out_of_range",
    "message_zh": "输入的数值或文本超出了可保存的范围",
    "message_en": "A value is outside the range or format that can be stored",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LendDeskError)
    async def lenddesk_error(_request: Request, exc: LendDeskError) -> JSONResponse:
        return JSONResponse(exc.to_body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(_validation_body(exc), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(_http_error_body(exc), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(UnicodeEncodeError)
    async def unencodable_text(_request: Request, _exc: UnicodeEncodeError) -> JSONResponse:
        return JSONResponse(UNENCODABLE_TEXT, status_code=422)

    @app.exception_handler(DataError)
    async def database_refused_value(_request: Request, _exc: DataError) -> JSONResponse:
        # PostgreSQL: a number past BIGINT, a NUL byte in text, a string longer than its column.
        return JSONResponse(OUT_OF_RANGE, status_code=422)

    @app.exception_handler(OverflowError)
    async def number_too_large(_request: Request, exc: OverflowError) -> JSONResponse:
        # SQLite's driver refuses integers past 64 bits with OverflowError; elsewhere it is a bug.
        if not _raised_by_the_database(exc.__traceback__):
            raise exc
        return JSONResponse(OUT_OF_RANGE, status_code=422)


# --- body size of public JSON routes --------------------------------------------------------------


class PayloadTooLarge(LendDeskError):
    status_code = 413
    default_code = "payload_too_large"


def _is_public_json(route: APIRoute) -> bool:
    public = any(getattr(d.call, "is_public", False) for d in route.dependant.dependencies)
    field = route.body_field
    return public and field is not None and not isinstance(field.field_info, params.Form)


def _public_json_paths(routes: Any) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """(full path pattern, methods) of the public routes that take a JSON body, through included routers."""
    found = []
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, APIRoute) and _is_public_json(route):
            found.append((compile_path(context.path)[0], frozenset(route.methods)))
    return found


def build_routes(app: FastAPI) -> None:
    """Build every included route's effective dependants now. FastAPI builds them lazily, on the
    first request that walks a router: about 4 s for this app, which a served worker would otherwise
    spend inside its first requests (the event loop blocked, every connection waiting)."""
    for _ in iter_route_contexts(app.routes):
        pass


class PublicJsonLimit:
    """ASGI middleware: a public route that takes a JSON body reads at most `[auth]
    public_json_max_bytes` — refused with 413 on the declared length, or while the body streams in,
    before anything parses it (FastAPI reads the whole body before a route's dependencies run)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._paths: list[tuple[re.Pattern[str], frozenset[str]]] | None = None

    def _guarded(self, scope: Scope) -> bool:
        if self._paths is None:  # the routes are all there by the first request
            self._paths = _public_json_paths(scope["app"].routes)
        path, method = scope["path"], scope["method"]
        return any(method in methods and pattern.match(path) for pattern, methods in self._paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("POST", "PUT", "PATCH")
            or not self._guarded(scope)
        ):
            await self.app(scope, receive, send)
            return
        limit = get_policy().auth.public_json_max_bytes
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await _too_large(limit)(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


def _too_large(limit: int) -> JSONResponse:
    error = PayloadTooLarge(f"请求内容超过 {limit} 字节上限", f"The body is over the {limit}-byte limit")
    return JSONResponse(error.to_body(), status_code=413)
