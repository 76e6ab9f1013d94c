"""Settings, read once from the environment (``BANSO_*``) and validated loudly."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """A setting in the environment has a value banso cannot use."""


class Settings(BaseSettings):
    """Every setting banso reads. Each one is documented in README.md (a test checks)."""

    model_config = SettingsConfigDict(env_prefix="BANSO_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=Path("banso-data"),
        description="Folder for the SQLite database, the event store and uploads.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the app database; empty means a SQLite file in data_dir.",
    )
    timezone: str = Field(default="Asia/Tokyo", description="Workspace timezone (IANA name).")
    default_currency: str = Field(default="JPY", description="Currency of new contracts.")
    host: str = Field(default="127.0.0.1", description="Address `banso serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `banso serve` listens on.")
    max_upload_mb: int = Field(default=200, ge=1, description="Largest import file accepted.")
    metrics_engine: str = Field(
        default="duckdb",
        description="Where metrics are computed: duckdb (in process), pyspark, or an Ibis "
        "connection URL of a warehouse holding the events (e.g. trino://..., bigquery://...).",
    )
    metrics_memory_limit: str = Field(
        default="", description="DuckDB memory limit for metrics, e.g. 4GB; empty: DuckDB's own."
    )
    metrics_spark_master: str = Field(
        default="local[2]", description="Spark master URL when BANSO_METRICS_ENGINE=pyspark."
    )
    metrics_events_table: str = Field(
        default="events", description="Warehouse table of the events (warehouse engine only)."
    )
    metrics_column_map: dict[str, str] = Field(
        default_factory=dict,
        description='JSON: event column → warehouse column, e.g. {"timestamp": "sent_at"}.',
    )

    secret_key: str = Field(
        default="",
        description="Key that signs sign-in and form tokens; empty: a random key kept in "
        "data_dir/secret_key (created on first use).",
    )
    session_idle_hours: float = Field(
        default=8, gt=0, description="A web session ends after this many hours without use."
    )
    session_max_days: float = Field(
        default=7,
        gt=0,
        description="A web session ends this many days after sign-in at the latest.",
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark cookies Secure even when banso itself sees plain HTTP (behind an "
        "HTTPS proxy); over HTTPS they are always Secure.",
    )
    smtp_host: str = Field(
        default="", description="SMTP server for outgoing mail; empty: mail stays in the outbox."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_user: str = Field(default="", description="SMTP user name; empty: no login.")
    smtp_password: str = Field(
        default="", description="SMTP password (or BANSO_SMTP_PASSWORD_FILE)."
    )
    smtp_from: str = Field(
        default="banso@localhost", description="Sender address of mail banso sends."
    )
    smtp_starttls: bool = Field(
        default=True, description="Upgrade the SMTP connection with STARTTLS before logging in."
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown timezone {value!r} (use an IANA name like Asia/Tokyo)"
            ) from exc
        return value

    @field_validator("default_currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        from banso.money import CURRENCY_DIGITS

        code = value.upper()
        if code not in CURRENCY_DIGITS:
            raise ValueError(
                f"unsupported currency {value!r}; use one of {sorted(CURRENCY_DIGITS)}"
            )
        return code

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:// and postgresql:// URLs are supported")
        if value.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'banso.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


def _apply_file_secrets(environ: dict[str, str]) -> dict[str, Any]:
    """``BANSO_X_FILE=/path`` supplies BANSO_X from a file (Docker/Kubernetes secrets)."""
    values: dict[str, Any] = {}
    for key, path in environ.items():
        if key.startswith("BANSO_") and key.endswith("_FILE"):
            name = key.removeprefix("BANSO_").removesuffix("_FILE").lower()
            try:
                values[name] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(f"{key}: cannot read {path}: {exc.strerror}") from exc
    return values


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; raise SettingsError naming every bad value."""
    values = _apply_file_secrets(dict(os.environ))
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"BANSO_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from exc
