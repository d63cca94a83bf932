"""questions.follows_id, questions.answer_message_id: a reply to an answer goes on its thread.

The subscriber replies to the bot's message with the IMC's answer; the message id tells which
question it answered, and the new question follows that one, so the editors see the thread.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("follows_id", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("answer_message_id", sa.BigInteger, nullable=True))
        batch.create_index(
            "ix_questions_chat_id_answer_message_id", ["chat_id", "answer_message_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.drop_index("ix_questions_chat_id_answer_message_id")
        batch.drop_column("answer_message_id")
        batch.drop_column("follows_id")
