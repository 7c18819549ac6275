"""A live server on a free port and a headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from lenddesk.assistant.engine import assistant_settings
from tests.conftest import PASSWORD
from tests.support.servers import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.xdist_group("e2e"))


@pytest.fixture(scope="session")
def live_database(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database file the live server runs on: tests may seed it directly (SQLite, WAL)."""
    database = tmp_path_factory.mktemp("live") / "live.db"
    shutil.copy(template_db, database)
    return database


@pytest.fixture(scope="session")
def live_server(live_database: Path) -> Iterator[str]:
    """The real app under uvicorn on a copy of the template database."""
    directory, database = live_database.parent, live_database
    port = free_port()
    env = {
        **os.environ,
        "LENDDESK_DATABASE_URL": f"sqlite:///{database}",
        # the assistant's models as `make models` trained them (the server runs in another directory)
        "LENDDESK_ASSISTANT_MODEL_DIR": str(assistant_settings().model_dir.resolve()),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "lenddesk.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=directory,
    )
    deadline = time.monotonic() + 120  # a loaded machine: the worker builds its routes before it listens
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError as exc:
            if process.poll() is not None:
                raise RuntimeError("the live server exited during start-up") from exc
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def sign_in(page: Page, live_server: str):  # type: ignore[no-untyped-def]
    def go(role: str, password: str = PASSWORD) -> Page:
        page.goto(f"{live_server}/login")
        page.get_by_label("用户名").fill(role)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        return page

    return go
