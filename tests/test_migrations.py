"""Every migration runs up and down on both databases, and the models match the migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from banso import migrate
from banso.app import create_app
from banso.models import metadata
from tests.conftest import BACKENDS, fresh_backend


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate._config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


@pytest.mark.parametrize("kind", BACKENDS)
def test_it_runs_every_migration_up_and_down(kind: str, tmp_path: Path) -> None:
    with fresh_backend(kind, tmp_path) as backend:
        for revision in _revisions():
            migrate.upgrade(backend.engine, revision)
            assert migrate.current_revision(backend.engine) == revision
        tables = set(inspect(backend.engine).get_table_names())
        assert {"accounts", "contacts", "contracts", "deals", "audit_log"} <= tables
        migrate.downgrade(backend.engine, "base")
        assert migrate.current_revision(backend.engine) is None
        leftover = set(inspect(backend.engine).get_table_names()) - {"alembic_version"}
        assert leftover == set()
        migrate.upgrade(backend.engine)
        assert migrate.current_revision(backend.engine) == migrate.head_revision()


@pytest.mark.parametrize("kind", BACKENDS)
def test_the_models_match_the_migrations(kind: str, tmp_path: Path) -> None:
    with fresh_backend(kind, tmp_path) as backend:
        migrate.upgrade(backend.engine)
        with backend.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
        assert diff == [], f"models and migrations differ; add a migration: {diff}"


@pytest.mark.parametrize("kind", BACKENDS)
def test_the_app_refuses_an_unmigrated_database(kind: str, tmp_path: Path) -> None:
    with fresh_backend(kind, tmp_path) as backend:
        with pytest.raises(migrate.NotMigrated, match="run `banso init`"):
            create_app(backend.settings)
        migrate.upgrade(backend.engine, _revisions()[0])
        if len(_revisions()) > 1:
            with pytest.raises(migrate.NotMigrated, match="banso init"):
                create_app(backend.settings)
        migrate.upgrade(backend.engine)
        app = create_app(backend.settings)
        app.state.engine.dispose()
