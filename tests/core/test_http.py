"""The API boundary: floats are refused for money, and errors carry both languages."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from lenddesk.core import auth
from lenddesk.core.http import install_error_handlers
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
