"""HTTP API of the collections room: thin routes over collections.service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/collections", tags=["collections"])
