"""deliveries.sending_at: a delivery is marked when its request goes out, until its result is
recorded.

A sender starting finds the rows a previous run left marked (it was killed, or cut off, with
those requests in flight or their results not yet committed): each may have reached the
messenger unrecorded, so their number is the most duplicates the stop can cause. The sender
reports it and sends them again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("sending_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("sending_at")
