"""ASGI entry point for uvicorn workers: `uvicorn lenddesk.asgi:app`."""

from lenddesk.app import create_app

app = create_app()
