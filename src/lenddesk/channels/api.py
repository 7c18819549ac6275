"""HTTP API of the channels room: thin routes over channels.service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
