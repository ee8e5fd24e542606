"""Settings from the environment (prefix ``KZ_``) or a ``.env`` file; one place, read once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field
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
