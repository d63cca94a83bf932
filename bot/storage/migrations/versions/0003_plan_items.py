"""Items from the annual plan: source key, resolved timing and the period it covers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("source_key", sa.String(100)))
        batch.add_column(sa.Column("timing_json", sa.Text))
        batch.add_column(sa.Column("period_start", sa.Date))
        batch.add_column(sa.Column("period_end", sa.Date))
        batch.add_column(sa.Column("audience_text", sa.String(300)))
    op.create_index("ix_items_source_key", "items", ["source_key"], unique=True)
    op.create_index("ix_items_kind_period", "items", ["kind", "period_start", "period_end"])


def downgrade() -> None:
    op.drop_index("ix_items_kind_period", table_name="items")
    op.drop_index("ix_items_source_key", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("audience_text")
        batch.drop_column("period_end")
        batch.drop_column("period_start")
        batch.drop_column("timing_json")
        batch.drop_column("source_key")
