"""handled_updates: the update ids the web workers have handled, so a re-sent one is not.

Telegram re-sends an update it got no 200 for (a worker killed after handling, a slow answer);
any worker that gets it again answers 200 and leaves it. Kept a few days (pruned by age).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handled_updates",
        sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_handled_updates_handled_at", "handled_updates", ["handled_at"])


def downgrade() -> None:
    op.drop_index("ix_handled_updates_handled_at", "handled_updates")
    op.drop_table("handled_updates")
