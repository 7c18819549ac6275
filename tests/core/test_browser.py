"""Browser defences: the API takes the session cookie only with the CSRF token; security headers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lenddesk.core import auth
from tests.conftest import PASSWORD, carry_csrf, token_for


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        assert client.post("/login", data={"username": "agent", "password": PASSWORD}).status_code == 200
        yield client


def test_the_api_refuses_a_cookie_without_the_csrf_header(browser: TestClient) -> None:
    assert browser.get("/api/v1/me").status_code == 200  # reading with the cookie is fine
    response = browser.post("/api/v1/auth/logout")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "csrf_token_invalid" and body["message_zh"] and body["message_en"]
    assert browser.get("/api/v1/me").status_code == 200  # nothing was revoked


def test_the_api_refuses_a_cookie_from_a_foreign_origin_in_both_languages(browser: TestClient) -> None:
    carry_csrf(browser)
    response = browser.post("/api/v1/auth/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "csrf_foreign_origin"
    assert "其他网站" in body["message_zh"] and "another site" in body["message_en"]


def test_the_api_takes_the_cookie_with_the_csrf_header(browser: TestClient) -> None:
    assert carry_csrf(browser).post("/api/v1/auth/logout").status_code == 204
    assert browser.get("/api/v1/me").json()["code"] == "token_revoked"


def test_bearer_tokens_need_no_csrf_token_even_from_another_origin(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {token_for(client, 'agent')}", "Origin": "https://tool.example"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204


def test_signing_in_from_another_site_is_refused(client: TestClient) -> None:
    response = client.post(
        "/login",
        data={"username": "agent", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403 and auth.SESSION_COOKIE not in response.cookies


def test_the_token_changes_with_each_session(app: FastAPI) -> None:
    tokens = []
    for _ in range(2):
        with TestClient(app) as client:
            client.post("/login", data={"username": "agent", "password": PASSWORD})
            found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
            assert found is not None
            tokens.append(found.group(1))
    assert tokens[0] != tokens[1]


def test_the_login_page_renders_without_a_session(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and 'name="csrf_token" value=""' in page.text


def test_security_headers_on_pages_api_and_errors(client: TestClient) -> None:
    for path in ("/login", "/api/v1/me", "/static/console.css", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0], path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # plain http: HSTS would be ignored


def test_hsts_when_the_request_is_secure(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/login").headers["strict-transport-security"].startswith("max-age=")


def test_the_api_docs_allow_only_their_own_inline_script_by_hash(client: TestClient) -> None:
    response = client.get("/docs")
    csp = response.headers["content-security-policy"]
    assert "'sha256-" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp


def test_console_templates_carry_no_inline_script() -> None:
    from pathlib import Path

    import lenddesk.web

    templates = Path(lenddesk.web.__file__).parent / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        if re.search(r'method="post"', text):
            assert text.count("csrf_field()") == text.count('method="post"'), template


def test_the_console_password_page_changes_the_password_and_ends_other_sessions(app: FastAPI) -> None:
    with TestClient(app) as laptop, TestClient(app) as shared_pc:
        for browser in (laptop, shared_pc):
            browser.post("/login", data={"username": "qa", "password": PASSWORD})
            carry_csrf(browser)
        page = laptop.get("/account/password")
        assert page.status_code == 200 and 'name="csrf_token" value="' in page.text
        form = {"current_password": PASSWORD, "new_password": "qa-new-password", "repeat_password": "typo"}
        assert laptop.post("/account/password", data=form).status_code == 422
        wrong = {**form, "current_password": "not-the-one", "repeat_password": "qa-new-password"}
        refused = laptop.post("/account/password", data=wrong)
        assert refused.status_code == 403 and "当前密码不正确" in refused.text
        done = laptop.post("/account/password", data={**wrong, "current_password": PASSWORD})
        assert done.status_code == 200 and done.url.path == "/"
        assert carry_csrf(laptop).get("/api/v1/me").status_code == 200  # this browser got a new cookie
        assert shared_pc.get("/", follow_redirects=False).headers["location"].startswith("/login")
