"""HTTP API of the ledger room."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
