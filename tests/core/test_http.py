"""The API boundary: floats are refused for money, and errors carry both languages."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from lenddesk.app import create_app
from lenddesk.core import auth
from lenddesk.core.http import build_routes, install_error_handlers
from lenddesk.core.money import YuanIn, YuanOut


class Payment(BaseModel):
    amount: YuanIn


class Echo(BaseModel):
    amount: YuanOut


def make_client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/pay", dependencies=[auth.public()])
    def pay(body: Payment) -> Echo:
        return Echo(amount=body.amount)

    return TestClient(app)


def test_yuan_string_in_and_out() -> None:
    response = make_client().post("/pay", json={"amount": "1,234.50"})
    assert response.status_code == 200
    assert response.json() == {"amount": "1234.50"}


def test_float_amount_is_refused_clearly() -> None:
    response = make_client().post("/pay", json={"amount": 1234.5})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "amount_not_string"
    assert "浮点" in body["message_zh"] and "float" in body["message_en"]


def test_missing_field_is_a_422_naming_the_field() -> None:
    response = make_client().post("/pay", json={})
    assert response.status_code == 422
    assert "amount" in response.json()["message_en"]


def test_the_app_runs_sync_routes_on_a_small_thread_pool(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import anyio.to_thread

    from lenddesk.app import create_app
    from lenddesk.core.settings import get_settings

    async def tokens() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    monkeypatch.setenv("LENDDESK_WORKER_THREADS", "3")
    get_settings.cache_clear()
    try:
        with TestClient(create_app(database_url="sqlite://")) as client:
            assert client.portal.call(tokens) == 3
    finally:
        get_settings.cache_clear()


# --- what a fuzzer sends: every failure a caller can cause is a 4xx with the error body ------------


def hostile_client() -> TestClient:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DataError

    app = FastAPI()
    install_error_handlers(app)
    engine = create_engine("sqlite://")

    @app.post("/echo", dependencies=[auth.public()])
    def echo(body: Payment) -> Echo:
        return Echo(amount=body.amount)

    @app.get("/lookup/{number}", dependencies=[auth.public()])
    def lookup(number: int) -> int:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT :n + 0"), {"n": number}).scalar_one())

    @app.get("/store/{name}", dependencies=[auth.public()])
    def store(name: str) -> str:
        with engine.connect() as connection:
            return str(connection.execute(text("SELECT :name"), {"name": name + "\ud800"}).scalar_one())

    @app.get("/refused", dependencies=[auth.public()])
    def refused() -> None:
        raise DataError("INSERT …", {}, Exception("value out of range for type bigint"))

    @app.get("/bug", dependencies=[auth.public()])
    def bug() -> float:
        return 10.0**400  # OverflowError in our own arithmetic: a bug, which must stay a 500

    return TestClient(app, raise_server_exceptions=False)


def assert_error_body(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["message_zh"] and body["message_en"]


def test_unknown_paths_and_methods_answer_with_the_error_body() -> None:
    client = hostile_client()
    assert_error_body(client.get("/nowhere"), 404, "not_found")
    wrong_method = client.delete("/echo")
    assert_error_body(wrong_method, 405, "method_not_allowed")
    assert wrong_method.headers["allow"] == "POST"


def test_a_body_that_is_not_utf8_json_is_a_400_with_the_error_body() -> None:
    response = hostile_client().post(
        "/echo", content=b'{"amount": "\xff"}', headers={"Content-Type": "application/json"}
    )
    assert_error_body(response, 400, "bad_request")


def test_an_unpaired_surrogate_in_a_field_name_does_not_break_the_validation_answer() -> None:
    import json

    from fastapi.exceptions import RequestValidationError

    from lenddesk.core.http import _validation_body

    error = {"loc": ("body", "\ud800"), "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
    body = _validation_body(RequestValidationError([error]))
    json.dumps(body, ensure_ascii=False).encode("utf-8")  # what JSONResponse does; a surrogate raises
    assert body["details"] == [{"field": "?", "message": "Extra inputs are not permitted"}]


def test_text_the_database_cannot_encode_is_a_422() -> None:
    assert_error_body(hostile_client().get("/store/abc"), 422, "unencodable_text")


def test_a_number_the_database_cannot_hold_is_a_422() -> None:
    client = hostile_client()
    assert client.get(f"/lookup/{2**63 - 1}").json() == 2**63 - 1
    assert_error_body(client.get(f"/lookup/{2**64}"), 422, "value_out_of_range")


def test_a_value_postgresql_refuses_is_a_422() -> None:
    assert_error_body(hostile_client().get("/refused"), 422, "value_out_of_range")


def test_an_overflow_in_our_own_code_stays_a_server_error() -> None:
    assert hostile_client().get("/bug").status_code == 500


def test_a_served_worker_builds_its_routes_before_its_first_request(
    engine, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """FastAPI builds an included route's dependants on the first request that walks its router (4 s
    for this app): a uvicorn worker does it at import, so no request waits for it."""
    import fastapi.routing

    app = create_app(engine=engine)
    build_routes(app)
    built_inside_requests = []
    real = fastapi.routing.get_dependant
    monkeypatch.setattr(
        fastapi.routing, "get_dependant", lambda **kw: built_inside_requests.append(kw) or real(**kw)
    )
    with TestClient(app) as client:
        assert client.get("/api/v1/risk/alerts").status_code == 401
        assert client.post("/api/v1/desk/inbound", json={}).status_code in (401, 422)
    assert built_inside_requests == []
