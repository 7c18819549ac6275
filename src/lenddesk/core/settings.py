"""Process settings from the environment (prefix LENDDESK_). Business rules live in the policy file."""

from __future__ import annotations

import hmac
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from lenddesk.core.errors import ConfigurationError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LENDDESK_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///lenddesk.db",
        description="SQLAlchemy URL; a SQLite file in the working directory by default.",
    )
    timezone: str = "Asia/Shanghai"
    policy_file: Path | None = Field(
        default=None, description="TOML policy file; the documented defaults apply when unset."
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs tokens and session cookies. When unset, one is generated once into "
        "./.lenddesk_secret so that restarts and workers agree.",
    )
    otp_key: str | None = Field(
        default=None,
        description="Keys the hashes of one-time codes (and of phone numbers in their send limits); must "
        "differ from secret_key. When unset, one is generated once into ./.lenddesk_otp_key.",
    )
    demo_password: str = "lenddesk-demo"
    redis_url: str | None = Field(
        default=None,
        description="Redis for job locks and the sign-in throttle across workers and machines "
        "(e.g. redis://host:6379/0); without it both live in the database and files.",
    )
    channel_keys: dict[str, str] = Field(
        default_factory=dict,
        description='Per-integration keys for channel adapters, JSON: {"wechat": "key…"}.',
    )
    cookie_secure: bool = False
    worker_threads: int = Field(
        default=4,
        ge=1,
        le=200,
        description="Threads per worker process for sync routes (more on PostgreSQL).",
    )
    delivery_log_dir: Path = Field(
        default=Path("var/delivery"),
        description="Where the stand-in channel adapters (web chat, e-mail, SMS) log what they deliver.",
    )

    channels_key: str | None = Field(
        default=None,
        description="Encrypts channel credentials at rest (mailbox passwords, WeChat and SMS secrets); "
        "must differ from secret_key. When unset, one is generated once into ./.lenddesk_channels_key.",
    )

    risk_key: str | None = Field(
        default=None,
        description="Keys the hashes of blacklisted ID and mobile numbers (never stored in clear); must "
        "differ from secret_key. When unset, one is generated once into ./.lenddesk_risk_key.",
    )

    def resolved_risk_key(self) -> str:
        key = self.risk_key or _generated_key(Path(".lenddesk_risk_key"))
        if hmac.compare_digest(key.encode(), self.resolved_secret_key().encode()):
            raise ConfigurationError("LENDDESK_RISK_KEY must differ from LENDDESK_SECRET_KEY")
        return key

    def resolved_channels_key(self) -> str:
        key = self.channels_key or _generated_key(Path(".lenddesk_channels_key"))
        if hmac.compare_digest(key.encode(), self.resolved_secret_key().encode()):
            raise ConfigurationError("LENDDESK_CHANNELS_KEY must differ from LENDDESK_SECRET_KEY")
        return key

    def resolved_secret_key(self) -> str:
        return self.secret_key or _generated_key(Path(".lenddesk_secret"))

    def resolved_otp_key(self) -> str:
        """The key of one-time-code hashes: its own secret, never derived from or equal to the token key."""
        key = self.otp_key or _generated_key(Path(".lenddesk_otp_key"))
        if hmac.compare_digest(key.encode(), self.resolved_secret_key().encode()):
            raise ConfigurationError("LENDDESK_OTP_KEY must differ from LENDDESK_SECRET_KEY")
        return key


_generated_keys: dict[str, str] = {}


def _generated_key(path: Path) -> str:
    """The key kept in `path`, made there on first use (in the working directory of that moment).

    Read once per process, not at every token check. The file is created exclusively, so
    processes starting side by side share the first one written.
    """
    key = _generated_keys.get(str(path))
    if key is None:
        key = _generated_keys.setdefault(str(path), _read_or_create(path))
    return key


def _read_or_create(path: Path) -> str:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process has just created it and may not have written it yet
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.01)
        raise ConfigurationError(f"{path} is empty: remove it, or set the key in the environment") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
