"""health scores

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 01:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "scorecards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecards")),
        sa.UniqueConstraint("key", name=op.f("uq_scorecards_key")),
    )
    op.create_table(
        "scorecard_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scorecard_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scorecard_id"],
            ["scorecards.id"],
            name=op.f("fk_scorecard_versions_scorecard_id_scorecards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_versions")),
        sa.UniqueConstraint(
            "scorecard_id", "number", name=op.f("uq_scorecard_versions_scorecard_id_number")
        ),
    )
    op.create_table(
        "health_band_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scorecard_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("previous_as_of", sa.Date(), nullable=False),
        sa.Column("from_band", sa.String(length=40), nullable=True),
        sa.Column("to_band", sa.String(length=40), nullable=True),
        sa.Column("from_score", sa.Float(), nullable=True),
        sa.Column("to_score", sa.Float(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_health_band_changes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scorecard_id"],
            ["scorecards.id"],
            name=op.f("fk_health_band_changes_scorecard_id_scorecards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_band_changes")),
        sa.UniqueConstraint(
            "scorecard_id",
            "as_of",
            "account_id",
            name=op.f("uq_health_band_changes_scorecard_id_as_of_account_id"),
        ),
    )
    with op.batch_alter_table("health_band_changes", schema=None) as batch_op:
        batch_op.create_index("ix_health_band_changes_as_of", ["as_of"], unique=False)

    op.create_table(
        "health_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("measure_key", sa.String(length=63), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("rated_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_health_ratings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_ratings")),
    )
    with op.batch_alter_table("health_ratings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_health_ratings_account", ["account_id", "measure_key"], unique=False
        )

    op.create_table(
        "health_snapshots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scorecard_id", sa.Integer(), nullable=False),
        sa.Column("scorecard_version", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("band", sa.String(length=40), nullable=True),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_health_snapshots_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scorecard_id"],
            ["scorecards.id"],
            name=op.f("fk_health_snapshots_scorecard_id_scorecards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_snapshots")),
        sa.UniqueConstraint(
            "scorecard_id",
            "as_of",
            "account_id",
            name=op.f("uq_health_snapshots_scorecard_id_as_of_account_id"),
        ),
    )
    with op.batch_alter_table("health_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_health_snapshots_account", ["account_id", "scorecard_id", "as_of"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("health_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_health_snapshots_account")

    op.drop_table("health_snapshots")
    with op.batch_alter_table("health_ratings", schema=None) as batch_op:
        batch_op.drop_index("ix_health_ratings_account")

    op.drop_table("health_ratings")
    with op.batch_alter_table("health_band_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_health_band_changes_as_of")

    op.drop_table("health_band_changes")
    op.drop_table("scorecard_versions")
    op.drop_table("scorecards")
