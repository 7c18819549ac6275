"""HTTP plumbing shared by every room: the per-request transaction and the error responses."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from lenddesk.core.errors import LendDeskError


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


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy, run uvicorn with --proxy-headers to see the real one)."""
    return request.client.host if request.client else "unknown"


def _validation_body(exc: RequestValidationError) -> dict[str, object]:
    fields = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query"))
        fields.append({"field": location, "message": error.get("msg", "")})
    names = ", ".join(f["field"] for f in fields if f["field"]) or "request"
    return {
        "code": "validation_error",
        "message_zh": f"请求参数不正确：{names}",
        "message_en": f"Invalid request fields: {names}",
        "details": fields,
    }


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LendDeskError)
    async def lenddesk_error(_request: Request, exc: LendDeskError) -> JSONResponse:
        return JSONResponse(exc.to_body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(_validation_body(exc), status_code=422)
