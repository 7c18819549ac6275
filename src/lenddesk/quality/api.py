"""HTTP API of the quality room: thin routes over quality.service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/quality", tags=["quality"])
