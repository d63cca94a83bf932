"""items.responsible_text: who runs a plan activity («Ответственный»), as the plan words it.

Plans name the people responsible in a column of their own; it is not the audience, so it is
kept apart from audience_text and shown beside it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("responsible_text", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("responsible_text")
