"""Subscribers and the persistent FSM state.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("chat_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("name", sa.String(128), nullable=False, server_default=""),
        sa.Column("username", sa.String(64)),
        sa.Column("role", sa.String(16)),
        sa.Column("org_kind", sa.String(16)),
        sa.Column("org_name", sa.String(200)),
        sa.Column("topics", sa.String(64), nullable=False),
        sa.Column("frequency", sa.String(8), nullable=False, server_default="weekly"),
        sa.Column("status", sa.String(8), nullable=False, server_default="active"),
        sa.Column("source", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("onboarded_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("chat_id", name="pk_subscribers"),
    )
    op.create_index("ix_subscribers_status_frequency", "subscribers", ["status", "frequency"])
    op.create_table(
        "fsm_states",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(255)),
        sa.Column("data", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_fsm_states"),
    )
    op.create_index("ix_fsm_states_chat_id", "fsm_states", ["chat_id"])


def downgrade() -> None:
    op.drop_index("ix_fsm_states_chat_id", table_name="fsm_states")
    op.drop_table("fsm_states")
    op.drop_index("ix_subscribers_status_frequency", table_name="subscribers")
    op.drop_table("subscribers")
