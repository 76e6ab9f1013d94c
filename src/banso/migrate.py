"""Schema migrations (Alembic, shipped inside the package) and the check the server runs."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from banso.errors import BansoError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class NotMigrated(BansoError):
    """The database schema is older (or newer) than this version of banso."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (for developers)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


def ensure_migrated(engine: Engine) -> None:
    """Refuse to run against a database whose schema is not this version's."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise NotMigrated(f"the database at {where} has no banso schema yet; run `banso init`")
    raise NotMigrated(
        f"the database at {where} is at schema {current}, this banso needs {head}; "
        "run `banso init` to migrate it"
    )
