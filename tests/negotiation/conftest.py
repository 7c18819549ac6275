"""Negotiation fixtures: the hardship book on the test database and a pinned clock."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from tests.negotiation.support import NOW, Book, hardship_book


@pytest.fixture
def book(session: Session) -> Book:
    return hardship_book(session)


@pytest.fixture
def pinned(app: FastAPI) -> None:
    app.state.desk_clock = lambda: NOW
