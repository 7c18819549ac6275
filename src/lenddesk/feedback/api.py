"""HTTP API of the feedback room: thin routes over feedback.service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/feedback", tags=["feedback"])
