"""An editor's photo or document attached to a post (Telegram file id).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("attachment_file_id", sa.String(255)))
        batch.add_column(sa.Column("attachment_kind", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("attachment_kind")
        batch.drop_column("attachment_file_id")
