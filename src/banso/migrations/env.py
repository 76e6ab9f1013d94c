"""Alembic environment: the connection comes from banso (see banso.migrate), never a .ini URL."""

from __future__ import annotations

from alembic import context

from banso.models import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - banso.migrate always passes one
    raise RuntimeError("run migrations through `banso init` / banso.migrate")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
