"""HTTP API of the negotiation room: thin routes over negotiation.service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/negotiation", tags=["negotiation"])
