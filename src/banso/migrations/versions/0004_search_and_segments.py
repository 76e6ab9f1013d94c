"""customer search index and saved segments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# (table, the column holding the account id, the columns whose change matters to search)
_WATCHED = (
    ("accounts", "id", ("name", "name_kana", "custom")),
    ("contacts", "account_id", ("account_id", "name", "name_kana", "email")),
    ("account_tags", "account_id", ("account_id", "tag")),
    ("account_domains", "account_id", ("account_id", "domain")),
)

_PG_FUNCTION = """
CREATE FUNCTION banso_search_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO search_queue (account_id) VALUES ((to_jsonb(OLD) ->> TG_ARGV[0])::integer);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO search_queue (account_id) VALUES ((to_jsonb(NEW) ->> TG_ARGV[0])::integer);
    END IF;
    RETURN NULL;
END $$
"""


def _sqlite_triggers(table: str, key: str, watched: tuple[str, ...]) -> list[str]:
    enqueue = "INSERT INTO search_queue (account_id) VALUES ({}.{});"
    return [
        f"CREATE TRIGGER search_enqueue_{table}_insert AFTER INSERT ON {table} "
        f"BEGIN {enqueue.format('new', key)} END",
        f"CREATE TRIGGER search_enqueue_{table}_update AFTER UPDATE OF {', '.join(watched)} "
        f"ON {table} BEGIN {enqueue.format('old', key)} {enqueue.format('new', key)} END",
        f"CREATE TRIGGER search_enqueue_{table}_delete AFTER DELETE ON {table} "
        f"BEGIN {enqueue.format('old', key)} END",
    ]


def _pg_triggers(table: str, key: str, watched: tuple[str, ...]) -> list[str]:
    call = f"FOR EACH ROW EXECUTE FUNCTION banso_search_enqueue('{key}')"
    return [
        f"CREATE TRIGGER search_enqueue_insert AFTER INSERT ON {table} {call}",
        f"CREATE TRIGGER search_enqueue_update AFTER UPDATE OF {', '.join(watched)} "
        f"ON {table} {call}",
        f"CREATE TRIGGER search_enqueue_delete AFTER DELETE ON {table} {call}",
    ]


def upgrade() -> None:
    op.create_table(
        "account_search",
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "terms", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_search")),
    )
    op.create_table(
        "search_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_queue")),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("view", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_segments_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_index(
        "ix_account_search_terms",
        "account_search",
        ["terms"],
        postgresql_using="gin",
        sqlite_where=sa.text("0"),  # on SQLite the FTS5 table indexes the terms
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(_PG_FUNCTION)
    for table, key, watched in _WATCHED:
        for statement in (_pg_triggers if postgres else _sqlite_triggers)(table, key, watched):
            op.execute(statement)
    # Accounts that exist before this migration are indexed by the first search.
    op.execute("INSERT INTO search_queue (account_id) SELECT id FROM accounts")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, _key, _watched in _WATCHED:
        for op_name in ("insert", "update", "delete"):
            if postgres:
                op.execute(f"DROP TRIGGER IF EXISTS search_enqueue_{op_name} ON {table}")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS search_enqueue_{table}_{op_name}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS banso_search_enqueue()")
    else:
        # The FTS5 table the search service created on first use (see banso.search.dialects).
        for statement in (
            "DROP TRIGGER IF EXISTS account_search_fts_insert",
            "DROP TRIGGER IF EXISTS account_search_fts_delete",
            "DROP TRIGGER IF EXISTS account_search_fts_update",
            "DROP TABLE IF EXISTS account_search_fts",
        ):
            op.execute(statement)
    op.drop_index("ix_account_search_terms", table_name="account_search")
    op.drop_table("segments")
    op.drop_table("search_queue")
    op.drop_table("account_search")
