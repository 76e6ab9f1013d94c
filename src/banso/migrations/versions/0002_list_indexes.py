"""list indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:48:16.551178
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_accounts_industry_mrr_id", ["industry", "mrr", "id"], unique=False
        )
        batch_op.create_index("ix_accounts_segment_mrr_id", ["segment", "mrr", "id"], unique=False)

    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.create_index("ix_deals_budget_id", ["budget", "id"], unique=False)
        batch_op.create_index("ix_deals_inquiry_date_id", ["inquiry_date", "id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index("ix_deals_inquiry_date_id")
        batch_op.drop_index("ix_deals_budget_id")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_segment_mrr_id")
        batch_op.drop_index("ix_accounts_industry_mrr_id")
