"""Every route of the app declares who may call it; only the listed routes are public."""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from lenddesk.core.roles import ROLES

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
    ("POST", "/api/v1/assistant/messages"),
    ("GET", "/api/v1/assistant/messages"),  # the chat's own lines: its token in a cookie or header
    ("GET", "/api/v1/assistant/verify-official"),
    ("GET", "/chat"),
    ("GET", "/chat/events"),
    ("GET", "/survey/{token}"),  # the borrower's survey page: the unguessable token is the key
    ("POST", "/survey/{token}"),
    # emergency mode: the public status (page and JSON) lists active incidents' public notices
    ("GET", "/status"),
    ("GET", "/api/v1/status"),
    # channels: providers' webhooks (each checks its signature and timestamp) and the contact form
    ("GET", "/api/v1/channels/wechat"),
    ("POST", "/api/v1/channels/wechat"),
    ("POST", "/api/v1/channels/sms/receipts"),
    ("POST", "/api/v1/channels/sms/inbound"),
    ("POST", "/api/v1/channels/cti/events"),
    ("GET", "/contact"),
    ("POST", "/contact"),
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


# --- every operation is documented: an English summary and its error answers ---------------------

ERROR_SCHEMA = "#/components/schemas/ErrorOut"
HOW_TO_FIX = "give the route decorator summary='…' (English) and responses=errors(…) from lenddesk.core.http"


def documented_operations(app: FastAPI) -> Iterator[tuple[str, str, APIRoute, dict[str, Any]]]:
    """(method, path, route, OpenAPI operation) for every operation of the published API."""
    document = app.openapi()
    for path, route in api_routes(app):
        if not route.include_in_schema:
            continue
        for method in sorted(route.methods):
            yield method, path, route, document["paths"][path][method.lower()]


def expected_errors(route: APIRoute, operation: dict[str, Any]) -> set[int]:
    """The error answers any route of this shape can give (others, such as 409, the fuzzer finds)."""
    expected: set[int] = set()
    if operation.get("parameters") or "requestBody" in operation:
        expected.add(422)
    if "requestBody" in operation:
        expected.add(400)
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        expected.add(404)
    calls = list(_calls(route.dependant))
    allowed = set().union(*(getattr(call, "allowed_roles", set()) for call in calls))
    if allowed:
        expected.add(401)
        if not set(ROLES) <= allowed:
            expected.add(403)
    return expected


def documentation_gaps(method: str, path: str, route: APIRoute, operation: dict[str, Any]) -> list[str]:
    gaps = []
    if not route.summary or not route.summary.isascii():
        gaps.append("no English summary=")
    documented = {int(code) for code in operation["responses"] if code.isdigit()}
    missing = sorted(expected_errors(route, operation) - documented)
    if missing:
        gaps.append(f"undocumented error responses {missing}")
    for code, response in operation["responses"].items():
        if code.isdigit() and int(code) >= 400:
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") != ERROR_SCHEMA:
                gaps.append(f"response {code} is not documented as ErrorOut")
    return [f"{method} {path}: {gap}" for gap in gaps]


def test_every_operation_has_an_english_summary_and_documents_its_errors(app: FastAPI) -> None:
    gaps = [
        gap
        for method, path, route, operation in documented_operations(app)
        for gap in documentation_gaps(method, path, route, operation)
    ]
    assert not gaps, f"{HOW_TO_FIX}:\n" + "\n".join(gaps)


def test_the_documentation_check_notices_a_route_that_skips_it(app: FastAPI) -> None:
    from fastapi import APIRouter

    from lenddesk.core import auth
    from lenddesk.core.http import errors

    router = APIRouter()

    @router.post("/api/v1/undocumented/{thing_id}", dependencies=[auth.allow("agent")])
    def undocumented(thing_id: int, body: dict[str, int]) -> None: ...

    @router.get("/api/v1/documented/{thing_id}", summary="A thing", responses=errors(401, 403, 404, 422))
    def documented(thing_id: int, _: object = auth.allow("agent")) -> None: ...

    app.include_router(router)
    app.openapi_schema = None
    found = {
        path: documentation_gaps(method, path, route, operation)
        for method, path, route, operation in documented_operations(app)
        if "/undocumented/" in path or "/documented/" in path
    }
    assert found["/api/v1/documented/{thing_id}"] == []
    assert found["/api/v1/undocumented/{thing_id}"] == [
        "POST /api/v1/undocumented/{thing_id}: no English summary=",
        "POST /api/v1/undocumented/{thing_id}: undocumented error responses [400, 401, 403, 404]",
        "POST /api/v1/undocumented/{thing_id}: response 422 is not documented as ErrorOut",
    ]
