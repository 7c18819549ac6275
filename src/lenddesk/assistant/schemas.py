"""Request and response models of the assistant's API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SessionId = Field(
    pattern=r"^[A-Za-z0-9_-]{16,64}$",
    description="The chat session: a random token of 16–64 letters, digits, - or _ that the client keeps",
)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = SessionId
    text: str = Field(min_length=1, max_length=20_000, description="What the borrower wrote")


class MessageOut(BaseModel):
    session_id: str
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
