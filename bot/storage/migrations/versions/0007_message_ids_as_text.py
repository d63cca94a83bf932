"""Message ids the delivery engine stores become text: another messenger's ids are strings.

`deliveries.message_id` (the message a post campaign sent, which an edit campaign changes) and
`campaigns.progress_message_id` (the editor's progress message) hold the transport's id as it
gave it; Telegram's integer ids convert to their decimal text.

Going down, ids that are not integers (another transport's) cannot be kept: they become NULL
(those messages can no longer be edited or their progress updated; nothing else depends on them).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID_LENGTH = 64
COLUMNS = (("deliveries", "message_id"), ("campaigns", "progress_message_id"))


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=sa.BigInteger(),
                type_=sa.String(ID_LENGTH),
                existing_nullable=True,
                postgresql_using=f"{column}::text",
            )


def downgrade() -> None:
    bind = op.get_bind()
    for table, column in COLUMNS:
        ids = sa.table(table, sa.column("id", sa.BigInteger), sa.column(column, sa.String))
        stored = bind.execute(
            sa.select(ids.c.id, ids.c[column]).where(ids.c[column].is_not(None))
        ).all()
        foreign = [row.id for row in stored if not str(row[1]).lstrip("-").isdigit()]
        for start in range(0, len(foreign), 500):
            bind.execute(
                ids.update()
                .where(ids.c.id.in_(foreign[start : start + 500]))
                .values({column: None})
            )
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=sa.String(ID_LENGTH),
                type_=sa.BigInteger(),
                existing_nullable=True,
                postgresql_using=f"{column}::bigint",
            )
