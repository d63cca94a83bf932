"""Tables, as SQLAlchemy Core metadata. Every change here comes with a migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A moment in time, stored as UTC whatever zone it came in.

    SQLite keeps a datetime's wall-clock time and drops the zone: a Moscow 09:00 would come back
    as 09:00 UTC. Converting on the way in and marking UTC on the way out makes every zone safe
    (and PostgreSQL's timestamptz agrees).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (UTC or the settings' zone)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("onboarded_at", UtcDateTime()),
    sa.Index("ix_subscribers_status_frequency", "status", "frequency"),
)

fsm_states = sa.Table(
    "fsm_states",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("chat_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("state", sa.String(255)),
    sa.Column("data", sa.Text, nullable=False, server_default="{}"),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# An autoincrementing 64-bit key: SQLite only autoincrements a plain INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

feeds = sa.Table(
    "feeds",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("url", sa.String(1000), nullable=False, unique=True),
    sa.Column("title", sa.String(300), nullable=False, server_default=""),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("auto_approve", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("etag", sa.String(300)),
    sa.Column("last_modified", sa.String(100)),
    sa.Column("last_fetch_at", UtcDateTime()),
    sa.Column("next_fetch_at", UtcDateTime()),
    sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(500)),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

# Materials, events, cases and announcements: one table, `kind` tells them apart.
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    # Telegram entities of `body` as JSON, when an editor wrote it with formatting.
    sa.Column("body_entities", sa.Text),
    sa.Column("url", sa.String(1000)),
    sa.Column("image_url", sa.String(1000)),
    sa.Column("feed_id", BigId, sa.ForeignKey("feeds.id", ondelete="SET NULL")),
    sa.Column("guid", sa.String(500)),
    sa.Column("published_at", UtcDateTime()),
    # Comma-separated role and organisation-kind codes; empty means everyone.
    sa.Column("audience_roles", sa.String(128), nullable=False, server_default=""),
    sa.Column("audience_orgs", sa.String(64), nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
    # When subscribers may first see it: the digest's "new since" is measured against this.
    sa.Column("approved_at", UtcDateTime()),
    sa.Column("publish_at", UtcDateTime()),
    sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("author_id", sa.BigInteger),
    sa.Column("starts_at", UtcDateTime()),
    sa.Column("ends_at", UtcDateTime()),
    sa.Column("timing_text", sa.String(200)),
    sa.Column("place", sa.String(300)),
    sa.Column("registration_url", sa.String(1000)),
    sa.Column("organisation", sa.String(300)),
    sa.Column("site_type", sa.String(64)),
    # Where an item came from outside feeds, e.g. `plan:2021-2022:3`: re-imports update it.
    sa.Column("source_key", sa.String(100)),
    # Activities timed the way plans put it («Сентябрь 2021-июнь 2022», «2 раза в год»): the
    # resolved timing as JSON and the days it covers; starts_at stays for exact dates only.
    sa.Column("timing_json", sa.Text),
    sa.Column("period_start", sa.Date),
    sa.Column("period_end", sa.Date),
    sa.Column("audience_text", sa.String(300)),
    sa.Column("responsible_text", sa.String(300)),  # «Ответственный» in a plan: not the audience
    # Snowball stems of title and body between spaces, for /search (content.search).
    sa.Column("search_stems", sa.Text, nullable=False, server_default=""),
    # A photo or document an editor attached in Telegram: its file id and "photo"/"document".
    sa.Column("attachment_file_id", sa.String(255)),
    sa.Column("attachment_kind", sa.String(16)),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("feed_id", "guid", name="uq_items_feed_id_guid"),
    sa.Index("ix_items_source_key", "source_key", unique=True),
    sa.Index("ix_items_kind_period", "kind", "period_start", "period_end"),
    sa.Index("ix_items_status_kind_approved_at", "status", "kind", "approved_at"),
    sa.Index("ix_items_kind_starts_at", "kind", "starts_at"),
    sa.Index("ix_items_status_publish_at", "status", "publish_at"),
)

# One campaign per post, digest or reminder run; `key` names its slot and makes it unique.
campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("key", sa.String(128), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("title", sa.String(300), nullable=False, server_default=""),
    sa.Column("item_id", BigId, sa.ForeignKey("items.id", ondelete="SET NULL")),
    sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_by", sa.BigInteger),
    sa.Column("progress_chat_id", sa.BigInteger),
    # The transport's id of the editor's progress message, as text (another messenger's ids are
    # strings).
    sa.Column("progress_message_id", sa.String(64)),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("started_at", UtcDateTime()),
    sa.Column("finished_at", UtcDateTime()),
    # Retention (services/retention.py): deliveries of a finished campaign past
    # DELIVERY_RETENTION_DAYS are counted here by status and deleted; its counts are these plus
    # the deliveries still in the outbox. `folded_at`: when its first rows were folded (its
    # sent messages' ids are gone from then on, so /edit can no longer change them).
    sa.Column("folded_sent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("folded_failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("folded_blocked", sa.Integer, nullable=False, server_default="0"),
    sa.Column("folded_at", UtcDateTime()),
)

# A campaign's distinct messages: one per preference signature for digests, one for a post.
campaign_variants = sa.Table(
    "campaign_variants",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column(
        "campaign_id", BigId, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("signature", sa.String(128), nullable=False),
    # JSON list of message parts: [{"text": ..., "entities": [...]}, ...]
    sa.Column("parts", sa.Text, nullable=False),
    sa.UniqueConstraint("campaign_id", "signature", name="uq_campaign_variants_campaign_id"),
)

# The outbox: one row per campaign × chat. chat_id becomes NULL when a subscriber asks to be
# forgotten, so the anonymous counts stay.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column(
        "campaign_id", BigId, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("chat_id", sa.BigInteger),
    sa.Column("variant_id", BigId, sa.ForeignKey("campaign_variants.id", ondelete="SET NULL")),
    sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("parts_sent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    # The transport's id of the (first) message sent, as text: an edit campaign changes it.
    sa.Column("message_id", sa.String(64)),
    sa.Column("error", sa.String(300)),
    sa.Column("sent_at", UtcDateTime()),
    # When its request went out, until its result is recorded: a row still marked when a
    # sender starts may have reached the messenger unrecorded (the engine's duplicate bound).
    sa.Column("sending_at", UtcDateTime()),
    # The sender that claimed it and until when (outbox.py): no other sender takes it before.
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_until", UtcDateTime()),
    sa.UniqueConstraint("campaign_id", "chat_id", name="uq_deliveries_campaign_id"),
    sa.Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    # A claim (campaign, pending, id > the last one, by id) and a retention batch read a page
    # of this index in order, however many rows the outbox holds.
    sa.Index("ix_deliveries_campaign_id_status_id", "campaign_id", "status", "id"),
)

# «Полезно» / «Не про меня» under materials and cases. chat_id becomes NULL when a subscriber
# is forgotten: the counts stay for the editors.
item_feedback = sa.Table(
    "item_feedback",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("item_id", BigId, sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    sa.Column("chat_id", sa.BigInteger),
    sa.Column("useful", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("item_id", "chat_id", name="uq_item_feedback_item_id"),
)

# "Remind me" presses on events; the timetable's reminder job sends them the day before.
reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("item_id", BigId, sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    sa.Column("chat_id", sa.BigInteger, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime()),
    sa.UniqueConstraint("item_id", "chat_id", name="uq_reminders_item_id"),
)

# Each timetable slot runs at most once, whatever restarts or second instances happen.
timetable_runs = sa.Table(
    "timetable_runs",
    metadata,
    sa.Column("slot", sa.String(128), primary_key=True),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime()),
    sa.Column("outcome", sa.String(300)),
    # A run not finished by then (its worker died) leaves the slot free to claim again.
    sa.Column("lease_until", UtcDateTime()),
)

# Heartbeats for `python -m bot status`: last poll, last send, last timetable tick.
runtime_status = sa.Table(
    "runtime_status",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(300), nullable=False, server_default=""),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# Editors beyond the owners named in ADMIN_IDS; owners add and remove them with /editors.
editors = sa.Table(
    "editors",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(128), nullable=False, server_default=""),
    sa.Column("added_by", sa.BigInteger),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

# Who did what as an editor, and every refusal of an editor action to someone else.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor_id", sa.BigInteger, nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Column("details", sa.String(500), nullable=False, server_default=""),
    sa.Index("ix_audit_log_at", "at"),
)

# Questions to the IMC (/ask). When the asker is forgotten only the number, the date and who
# answered when stay: chat_id, the text, the asker's role and organisation and the answer go.
questions = sa.Table(
    "questions",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("chat_id", sa.BigInteger),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("asker_role", sa.String(16)),
    sa.Column("asker_org_kind", sa.String(16)),
    sa.Column("asker_org_name", sa.String(200)),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("answer", sa.Text),
    sa.Column("answered_by", sa.BigInteger),
    sa.Column("answered_at", UtcDateTime()),
    # A reply to an answer is a question that follows the answered one (its thread).
    sa.Column("follows_id", sa.BigInteger),
    # The bot's message that carried the answer: a reply to it goes on the thread.
    sa.Column("answer_message_id", sa.BigInteger),
    sa.Index("ix_questions_chat_id_answer_message_id", "chat_id", "answer_message_id"),
)

# Subscribers who used /forget, so that a restore from an older backup forgets them again. Only
# a keyed hash of the chat id (HMAC-SHA256, the key outside the database) and when: the list
# can't be read back into who they were, yet tells a returning chat id apart.
forgotten = sa.Table(
    "forgotten",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("forgotten_at", UtcDateTime(), nullable=False),
)

# The update ids the web workers handled (a re-sent update is answered and not handled again);
# pruned by age, Telegram re-sends for a day at most.
handled_updates = sa.Table(
    "handled_updates",
    metadata,
    sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("handled_at", UtcDateTime(), nullable=False, index=True),
)
