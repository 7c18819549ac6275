"""The channels' hot paths are matched among the app's first routes: FastAPI tries every route in
turn, twice a request, and each try costs a few microseconds (`app.ROUTER_MODULES`)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from lenddesk.app import create_app

HOT_PATHS = (
    ("POST", "/api/v1/risk/events"),
    ("POST", "/api/v1/ledger/repayments"),
    ("POST", "/api/v1/assistant/messages"),
    ("POST", "/api/v1/desk/inbound"),
)


def _routes_in_matching_order(app: FastAPI) -> list[APIRoute]:
    found: list[APIRoute] = []

    def walk(routes: list) -> None:  # type: ignore[type-arg]
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):  # a router included as a whole
                walk(route.original_router.routes)

    walk(app.router.routes)
    return found


def test_the_hot_paths_are_tried_before_the_rest_of_the_api() -> None:
    routes = _routes_in_matching_order(create_app("sqlite://"))
    for method, path in HOT_PATHS:
        position = next(i for i, route in enumerate(routes) if route.path == path and method in route.methods)
        assert position < 20, f"{method} {path} is tried after {position} other routes"
