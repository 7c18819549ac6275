"""HTTP API of the desk room."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/desk", tags=["desk"])
