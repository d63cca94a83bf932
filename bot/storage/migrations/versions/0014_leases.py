"""Leases: a delivery claimed by a sender, a timetable slot taken by a worker, each held until
a moment, so a process that died gives them back by itself.

deliveries.lease_owner / lease_until: the sender that claimed the row and until when; another
sender takes it only after that. timetable_runs.lease_until: a slot whose run never finished
(its worker killed) may be claimed again after it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("lease_owner", sa.String(64), nullable=True))
    op.add_column(
        "deliveries", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "timetable_runs", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True)
    )
    # A slot whose run never finished before leases existed stays taken for good: free now.
    op.execute("UPDATE timetable_runs SET lease_until = started_at WHERE finished_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("timetable_runs") as batch:
        batch.drop_column("lease_until")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
