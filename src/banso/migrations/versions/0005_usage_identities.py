"""usage ingestion: write keys and usage identities

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _seen() -> list[sa.Column[object]]:
    return [
        sa.Column("traits", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "write_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_write_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_write_keys_key_hash")),
    )
    op.create_table(
        "usage_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("link_source", sa.String(length=20), nullable=True),
        *_seen(),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_usage_users_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_usage_users_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_users")),
        sa.UniqueConstraint("user_id", name=op.f("uq_usage_users_user_id")),
    )
    with op.batch_alter_table("usage_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_users_account_id"), ["account_id"])
        batch_op.create_index(batch_op.f("ix_usage_users_contact_id"), ["contact_id"])
        batch_op.create_index(batch_op.f("ix_usage_users_email_key"), ["email_key"])
    op.create_table(
        "usage_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("link_source", sa.String(length=20), nullable=True),
        *_seen(),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_usage_groups_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_groups")),
        sa.UniqueConstraint("group_id", name=op.f("uq_usage_groups_group_id")),
    )
    with op.batch_alter_table("usage_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_groups_account_id"), ["account_id"])
    op.create_table(
        "usage_aliases",
        sa.Column("alias_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alias_id", name=op.f("pk_usage_aliases")),
    )
    with op.batch_alter_table("usage_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_aliases_user_id"), ["user_id"])
    op.create_table(
        "usage_memberships",
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("group_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "group_id", name=op.f("pk_usage_memberships")),
    )
    with op.batch_alter_table("usage_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_memberships_group_id"), ["group_id"])


def downgrade() -> None:
    op.drop_table("usage_memberships")
    op.drop_table("usage_aliases")
    op.drop_table("usage_groups")
    op.drop_table("usage_users")
    op.drop_table("write_keys")
