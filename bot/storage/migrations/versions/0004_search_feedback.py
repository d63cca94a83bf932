"""Search stems on items; «Полезно» / «Не про меня» feedback.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from bot.content.search import search_document

    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("search_stems", sa.Text, nullable=False, server_default=""))
    items = sa.table(
        "items",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("body", sa.Text),
        sa.column("search_stems", sa.Text),
    )
    connection = op.get_bind()
    for item_id, title, body in connection.execute(
        sa.select(items.c.id, items.c.title, items.c.body)
    ):
        connection.execute(
            items.update()
            .where(items.c.id == item_id)
            .values(search_stems=search_document(title, body))
        )
    op.create_table(
        "item_feedback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("useful", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_feedback_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_feedback")),
        sa.UniqueConstraint("item_id", "chat_id", name="uq_item_feedback_item_id"),
    )


def downgrade() -> None:
    op.drop_table("item_feedback")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("search_stems")
