"""ASGI entry point for uvicorn workers: `uvicorn lenddesk.asgi:app`."""

from lenddesk.app import create_app
from lenddesk.core.http import build_routes

app = create_app()
build_routes(app)  # before the worker accepts a connection, not inside its first requests
