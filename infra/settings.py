"""Settings from the environment (prefix ``KZ_``) or a ``.env`` file; one place, read once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "settings"]

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Runtime configuration. Temporal's own address, namespace and TLS come from ``temporalio.envconfig``."""

    model_config = SettingsConfigDict(env_prefix="KZ_", env_file=".env", extra="ignore")

    task_queue: str = "kz-procedures"
    data_dir: Path = Field(default=ROOT / "data")
    database_url: str = ""  # default: SQLite file in data_dir
    calendar_overrides: Path = Field(default=ROOT / "rules" / "data" / "calendar_overrides.toml")
    # Key for the keyed hashes that stand in for personal data in workflow ids and search attributes.
    pseudonym_key: str = "dev-only-pseudonym-key-change-me"

    # Outside systems over HTTP (``adapters/``); a system whose URL is unset runs on our local tables.
    sms_gateway_url: str = ""
    """``KZ_SMS_GATEWAY_URL``: the operator's SMS gateway (``adapters.sms_gateway``); unset: the local outbox."""
    sms_gateway_token: SecretStr = SecretStr("")
    """``KZ_SMS_GATEWAY_TOKEN``: the bearer token the gateway expects."""
    ncanode_url: str = ""
    """``KZ_NCANODE_URL``: NCANode's base URL for EDS verification (``adapters.ncanode``); unset: the local
    test CA verifies."""
    http_timeout_seconds: float = Field(default=20.0, gt=0)
    """``KZ_HTTP_TIMEOUT_SECONDS``: one HTTP request to an outside system (within one activity attempt)."""
    future_tolerance_seconds: float = Field(default=300.0, ge=0)
    """``KZ_FUTURE_TOLERANCE_SECONDS``: how far a receipt may lie in the future of the edge's clock (clock skew
    between the sender and us) before the edge refuses it. The test suite raises it: the time-skipping test
    server's clock runs years ahead of the wall clock."""

    # The HTTP API and the console (``api/``).
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    """``KZ_MAX_BODY_BYTES``: a request body over this is refused with 413 before anything reads it (1 MiB)."""
    idempotency_hours: float = Field(default=24.0, gt=0)
    """``KZ_IDEMPOTENCY_HOURS``: how long an ``Idempotency-Key`` is remembered (its record is purged after)."""
    session_idle_seconds: int = Field(default=30 * 60, gt=0)
    """``KZ_SESSION_IDLE_SECONDS``: a console session unused this long is over (30 minutes)."""
    session_max_seconds: int = Field(default=8 * 3600, gt=0)
    """``KZ_SESSION_MAX_SECONDS``: a console session is over this long after sign-in, used or not (8 hours)."""
    session_cookie_secure: bool = True
    """``KZ_SESSION_COOKIE_SECURE``: the console's cookie is sent over HTTPS only. ``scripts/up.py`` sets it to
    false for its plain-HTTP console on localhost; never in production."""

    def db_url(self) -> str:
        """The SQLAlchemy URL of our own tables."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'engine.db'}"


@cache
def settings() -> Settings:
    """The process's settings."""
    return Settings()
