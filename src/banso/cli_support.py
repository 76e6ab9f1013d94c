"""What every `banso` command shares: settings, a database session, readable errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache, wraps
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from banso.db import make_engine, make_sessionmaker, session_scope
from banso.errors import BansoError, ConfirmationRequired, InvalidInput
from banso.migrate import ensure_migrated
from banso.settings import Settings, SettingsError, load_settings

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def show_errors(exc: InvalidInput) -> None:
    table = Table("field", "problem", title="Rejected", title_style="bold red")
    for error in exc.errors:
        table.add_row(error.field, error.message)
    err_console.print(table)


def handles_errors(func: F) -> F:
    """Turn the errors a user can cause into a message and a non-zero exit, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SettingsError as exc:
            fail(str(exc), code=2)
        except InvalidInput as exc:
            show_errors(exc)
            raise typer.Exit(1) from exc
        except ConfirmationRequired as exc:
            fail(f"{exc} (pass --yes)")
        except BansoError as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


@contextmanager
def open_session(*, check_migrations: bool = True) -> Iterator[Session]:
    """A committed-on-success session on the configured database."""
    config = settings()
    engine = make_engine(config)
    try:
        if check_migrations:
            ensure_migrated(engine)
        with session_scope(make_sessionmaker(engine, currency=config.default_currency)) as session:
            yield session
    finally:
        engine.dispose()


def today() -> date:
    """Today in the workspace timezone (BANSO_TIMEZONE)."""
    return datetime.now(ZoneInfo(settings().timezone)).date()
