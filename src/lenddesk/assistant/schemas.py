"""Request and response models of the assistant's API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MessageIn(BaseModel):
    """The session is named by its token in the cookie or the X-Chat-Token header, never the body or URL."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000, description="What the borrower wrote")


class MessageOut(BaseModel):
    session_id: str = Field(description="The session's public id (as agents see it); it opens nothing")
    reply: str = Field(description="The assistant's answer (empty while a person has the chat)")
    intent: str
    confidence: float = Field(ge=0, le=1)
    emotion: Literal["calm", "anxious", "angry"]
    handoff: bool = Field(description="The chat is (now) with a person")
    risk_flags: list[str]
    ticket_number: str | None
    message_seq: int = Field(ge=1)
    reply_seq: int | None


class ChatLineOut(BaseModel):
    seq: int
    author: Literal["borrower", "bot", "agent", "system"]
    author_name: str
    text: str
    created_at: datetime


class ChatLinesOut(BaseModel):
    session_id: str
    lines: list[ChatLineOut]


class OfficialOut(BaseModel):
    kind: Literal["phone", "badge"]
    value: str
    official: bool
    description: str
    advice: str
