"""The FastAPI application: every room's API router and console pages on one app."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from lenddesk import __version__
from lenddesk.core import browser
from lenddesk.core.api import API_DOCS_ASSETS
from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.http import PublicJsonLimit, install_error_handlers
from lenddesk.core.policy import get_policy
from lenddesk.core.settings import get_settings

# Each module exposes `router`; their paths do not overlap, so order changes no behaviour, only
# speed: FastAPI tries every route in turn (twice per request), so the channels' hot paths (risk
# events, repayments, chat, intake) come first, in small routers — a risk event behind the others
# cost a quarter of its request in route matching, and a chat message behind the desk's 38 routes
# and the ledger's 147 µs a pass (23 µs now). The documentation's tag order is `API_TAGS`.
ROUTER_MODULES = (
    "lenddesk.risk.api",
    "lenddesk.ledger.posting_api",
    "lenddesk.assistant.api",
    "lenddesk.desk.api",
    "lenddesk.ledger.api",
    "lenddesk.channels.api",
    "lenddesk.core.api",
    "lenddesk.negotiation.api",
    "lenddesk.collections.api",
    "lenddesk.quality.api",
    "lenddesk.feedback.api",
    "lenddesk.reports.api",
    "lenddesk.incidents.api",
    "lenddesk.care.api",
    "lenddesk.channels.outbox_api",
    "lenddesk.web.routes",
    "lenddesk.web.ledger",
    "lenddesk.web.desk",
    "lenddesk.web.negotiation",
    "lenddesk.web.collections",
    "lenddesk.web.assistant",
    "lenddesk.web.quality",
    "lenddesk.web.feedback",
    "lenddesk.web.channels",
    "lenddesk.web.reports",
    "lenddesk.web.risk",
    "lenddesk.web.incidents",
    "lenddesk.web.care",
)

API_TAGS = (
    "system", "auth", "admin", "audit", "ledger", "calculator", "desk", "negotiation", "collections",
    "assistant", "quality", "feedback", "channels", "reports", "risk", "incidents", "care",
)  # fmt: skip


@asynccontextmanager
async def _worker_threads(app: FastAPI) -> AsyncIterator[None]:
    # Sync routes run on this thread pool. A few threads per worker beat many: with one SQLite
    # writer and one GIL, extra concurrent requests only queue inside the process and stretch the
    # tail (bench/desk.py: p99 about halved going from 40 to 4). Raise it on PostgreSQL.
    anyio.to_thread.current_default_thread_limiter().total_tokens = get_settings().worker_threads
    yield


def create_app(database_url: str | None = None, engine: Engine | None = None) -> FastAPI:
    settings = get_settings()
    get_policy()  # a bad policy file stops start-up here, naming the key
    app = FastAPI(
        title="LendDesk 网贷售后客服与逾期管理系统",
        version=__version__,
        description="After-sales service and collections desk for online lenders.",
        docs_url=None,  # served by core.api from local files: no CDN at run time
        redoc_url=None,
        lifespan=_worker_threads,
        openapi_tags=[{"name": tag} for tag in API_TAGS],
        dependencies=[Depends(browser.csrf_protect)],
    )
    app.add_middleware(PublicJsonLimit)
    app.add_middleware(browser.SecurityHeaders)
    app.state.engine = engine or make_engine(database_url or settings.database_url)
    app.state.session_factory = session_factory(app.state.engine)
    install_error_handlers(app)
    from lenddesk.web.routes import install_console_handlers

    install_console_handlers(app)
    for module_name in ROUTER_MODULES:
        app.include_router(importlib.import_module(module_name).router)
    static = Path(__file__).parent / "web" / "static"
    app.mount("/static/apidocs", StaticFiles(directory=API_DOCS_ASSETS), name="apidocs")
    app.mount("/static", StaticFiles(directory=static), name="static")
    return app
