"""Every route of the app declares who may call it; only the listed routes are public."""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

# The only routes open without sign-in.
PUBLIC = {
    ("GET", "/healthz"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/api/v1/calculator/schedule"),
    ("GET", "/api/v1/calculator/early-repayment"),
    ("GET", "/calculator"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}
# Framework routes (documentation and static files) that are not APIRoutes.
FRAMEWORK = {"/openapi.json", "/static", "/static/apidocs"}


def _calls(dependant: Any) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def access_of(route: APIRoute) -> str:
    calls = list(_calls(route.dependant))
    if any(getattr(call, "allowed_roles", None) for call in calls):
        return "roles"
    if any(getattr(call, "is_public", False) for call in calls):
        return "public"
    return "undeclared"


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) for every API route, through included routers."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield context.path, route
        else:
            assert context.path in FRAMEWORK, f"unexpected non-API route {context.path}"


def test_every_route_declares_access(app: FastAPI) -> None:
    undeclared, unlisted_public = [], []
    for path, route in api_routes(app):
        for method in route.methods:
            access = access_of(route)
            if access == "undeclared":
                undeclared.append(f"{method} {path}")
            elif access == "public" and (method, path) not in PUBLIC:
                unlisted_public.append(f"{method} {path}")
    assert not undeclared, f"routes without a role declaration: {undeclared}"
    assert not unlisted_public, f"public routes not on the list: {unlisted_public}"


def test_protected_routes_refuse_anonymous_calls(app: FastAPI, client: TestClient) -> None:
    checked = 0
    for full_path, route in api_routes(app):
        if full_path.startswith("/api/") and access_of(route) == "roles":
            path = full_path.replace("{", "").replace("}", "")
            method = sorted(route.methods)[0]
            response = client.request(method, path)
            assert response.status_code in (401, 422), f"{method} {full_path} answered {response.status_code}"
            checked += 1
    assert checked >= 5


def test_api_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "/static/apidocs/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert client.get("/static/apidocs/swagger-ui-bundle.js").status_code == 200


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["version"]
