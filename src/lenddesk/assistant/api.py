"""HTTP API of the assistant room: thin routes over assistant.service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/assistant", tags=["assistant"])
