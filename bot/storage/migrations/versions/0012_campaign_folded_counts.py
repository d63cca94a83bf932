"""campaigns.folded_sent/failed/blocked, campaigns.folded_at: delivery retention; deliveries
indexed by (campaign_id, status, id).

Deliveries of a finished campaign older than DELIVERY_RETENTION_DAYS are counted into these
columns by status and deleted, so the outbox does not grow without end; a campaign's counts
are its folded ones plus the deliveries still there. The counts carry no chat ids.

The (campaign_id, status) index becomes (campaign_id, status, id): PostgreSQL keeps equal keys
in no useful order, so a claim of the next page of a campaign's pending rows by id sorted all
of them (a 200 000-recipient post: every page ~0.5 s); with the id in the key a page is read in
order, and so is a retention batch.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        for name in ("folded_sent", "folded_failed", "folded_blocked"):
            batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("folded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_deliveries_campaign_id_status_id", "deliveries", ["campaign_id", "status", "id"]
    )
    op.drop_index("ix_deliveries_campaign_id_status", table_name="deliveries")


def downgrade() -> None:
    op.create_index("ix_deliveries_campaign_id_status", "deliveries", ["campaign_id", "status"])
    op.drop_index("ix_deliveries_campaign_id_status_id", table_name="deliveries")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("folded_at")
        batch.drop_column("folded_blocked")
        batch.drop_column("folded_failed")
        batch.drop_column("folded_sent")
