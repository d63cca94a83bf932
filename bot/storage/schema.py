"""Tables, as SQLAlchemy Core metadata. Every change here comes with a migration."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(128), nullable=False, server_default=""),
    sa.Column("username", sa.String(64)),
    sa.Column("role", sa.String(16)),
    sa.Column("org_kind", sa.String(16)),
    sa.Column("org_name", sa.String(200)),
    # Sorted, comma-separated topic codes: doubles as part of the digest's preference signature.
    sa.Column("topics", sa.String(64), nullable=False),
    sa.Column("frequency", sa.String(8), nullable=False, server_default="weekly"),
    sa.Column("status", sa.String(8), nullable=False, server_default="active"),
    sa.Column("source", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("onboarded_at", sa.DateTime(timezone=True)),
    sa.Index("ix_subscribers_status_frequency", "status", "frequency"),
)

fsm_states = sa.Table(
    "fsm_states",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("chat_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("state", sa.String(255)),
    sa.Column("data", sa.Text, nullable=False, server_default="{}"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
