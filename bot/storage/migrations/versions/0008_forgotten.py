"""The «forgotten» list, and questions of askers already forgotten erased.

`forgotten` holds a keyed hash of each forgotten chat id and when: a restore from an older
backup re-applies it. /forget now erases a question's text, the asker's role and organisation
and the answer along with the chat id; questions whose asker was forgotten before (chat_id
NULL) are erased the same way here.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forgotten",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_forgotten")),
    )
    questions = sa.table(
        "questions",
        sa.column("chat_id", sa.BigInteger),
        sa.column("text", sa.Text),
        sa.column("asker_role", sa.String),
        sa.column("asker_org_kind", sa.String),
        sa.column("asker_org_name", sa.String),
        sa.column("answer", sa.Text),
    )
    op.execute(
        questions.update()
        .where(questions.c.chat_id.is_(None))
        .values(text="", asker_role=None, asker_org_kind=None, asker_org_name=None, answer=None)
    )


def downgrade() -> None:
    # Erased questions stay erased: there is nothing to bring back.
    op.drop_table("forgotten")
