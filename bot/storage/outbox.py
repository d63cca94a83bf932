"""The outbox as the sender sees it: due deliveries in, results out, campaigns finished.

Everything here is set-based and batched: the sender claims a page of due deliveries in one
transaction and records a batch of results in one transaction, so the database cost per message
is a fraction of a round trip. Portable SQL only (SQLite and PostgreSQL run the same code).

Leases: a claim writes its owner and a deadline into the rows it takes (`lease_owner`,
`lease_until`; PostgreSQL's `FOR UPDATE SKIP LOCKED` keeps two claims from taking one row at
the same instant), the sender renews them while it holds them, and a result is recorded only
while the row is still its own. Another sender takes a row only once its lease has run out, so a
sender that died, or lost the database, holds nothing for longer than LEASE.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.content.models import CampaignKind, CampaignStatus, DeliveryStatus, SubscriberStatus
from bot.storage.database import Database
from bot.storage.db import as_utc, utcnow
from bot.storage.leadership import new_owner
from bot.storage.schema import campaigns, deliveries, runtime_status, subscribers

ERROR_MAX = 300  # deliveries.error is a String(300)
LAST_SEND_AT = "last_send_at"
# How many deliveries the last sender left marked as going out (their result unrecorded) when
# it stopped, as the next sender found them at its start: the most duplicates that stop caused.
UNRECORDED_AT_RESTART = "unrecorded_at_restart"
# Telegram told the sender to wait (429 retry_after) and nothing has been sent since:
# "<ISO time of the first such answer> <ISO time the last one asked to wait until>"; "" once a
# message goes out again.
SEND_PAUSED = "send_paused"
# The worker sending now (it holds the worker lock, storage/leadership.py): its owner name.
SENDER_OWNER = "sender_owner"
# How long a claimed delivery stays its sender's without a renewal (the engine renews every
# LEASE / 3). The standby waits at most this long for what a dead sender held.
LEASE = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A pending delivery whose time has come, with what the sender needs to send it."""

    id: int
    campaign_id: int
    chat_id: int | None  # None: the subscriber asked to be forgotten
    variant_id: int | None
    attempts: int
    parts_sent: int
    urgent: bool
    # The subscriber's status now (it may have changed since the fan-out); None: no such row.
    subscriber_status: SubscriberStatus | None
    # An edit campaign's delivery changes the already sent message `message_id` instead of
    # sending a new one.
    edit: bool = False
    message_id: str | None = None  # the transport's id, as text


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What happened to one delivery; `status` PENDING means "try again at next_attempt_at"
    (a transient failure) or "some parts are out, the rest follows" (parts_sent grew)."""

    delivery_id: int
    campaign_id: int
    chat_id: int | None
    status: DeliveryStatus
    attempts: int
    parts_sent: int
    message_id: str | None = None  # the transport's id of the first message sent, as text
    error: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None


_d = deliveries.c
_c = campaigns.c

# One statement for every kind of result, so a whole batch is a single executemany. The
# `status = pending` guard makes recording idempotent: a final state is never overwritten.
_RECORD = (
    deliveries.update()
    .where(
        _d.id == sa.bindparam("b_id"),
        _d.status == DeliveryStatus.PENDING.value,
        _d.lease_owner == sa.bindparam("b_owner"),
    )
    .values(
        status=sa.bindparam("b_status"),
        attempts=sa.bindparam("b_attempts"),
        parts_sent=sa.bindparam("b_parts_sent"),
        message_id=sa.func.coalesce(
            sa.bindparam("b_message_id", type_=_d.message_id.type), _d.message_id
        ),
        error=sa.bindparam("b_error"),
        next_attempt_at=sa.func.coalesce(
            sa.bindparam("b_next_attempt_at", type_=_d.next_attempt_at.type),
            _d.next_attempt_at,
        ),
        sent_at=sa.bindparam("b_sent_at", type_=_d.sent_at.type),
        # A message's next part keeps the mark (it goes out soon); any other result clears it.
        sending_at=sa.case(
            (sa.bindparam("b_keep_mark", type_=sa.Boolean), _d.sending_at), else_=sa.null()
        ),
        # ...and stays leased; a retry, or a final state, is free for whoever claims it next.
        lease_owner=sa.case(
            (sa.bindparam("b_keep_mark", type_=sa.Boolean), _d.lease_owner), else_=sa.null()
        ),
        lease_until=sa.case(
            (sa.bindparam("b_keep_mark", type_=sa.Boolean), _d.lease_until), else_=sa.null()
        ),
    )
)
_BLOCK_SUBSCRIBER = (
    subscribers.update()
    .where(
        subscribers.c.chat_id == sa.bindparam("b_chat_id"),
        subscribers.c.status != SubscriberStatus.BLOCKED.value,
    )
    .values(status=SubscriberStatus.BLOCKED.value, updated_at=sa.bindparam("b_now"))
)


def _row_params(result: DeliveryResult, owner: str) -> dict[str, Any]:
    keep = result.status is DeliveryStatus.PENDING and result.next_attempt_at is None
    return {
        "b_owner": owner,
        "b_id": result.delivery_id,
        "b_status": result.status.value,
        "b_attempts": result.attempts,
        "b_parts_sent": result.parts_sent,
        "b_message_id": result.message_id,
        "b_error": result.error[:ERROR_MAX] if result.error else None,
        "b_next_attempt_at": result.next_attempt_at,
        "b_sent_at": result.sent_at,
        "b_keep_mark": keep,
    }


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    """Ids a few hundred at a time: an IN list stays well inside any driver's parameter limit."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


class OutboxRepository:
    """The outbox as one sender, `owner`, sees it: its claims are leased to that name."""

    def __init__(
        self, engine: Database, owner: str | None = None, lease: timedelta = LEASE
    ) -> None:
        self._engine = engine
        self.owner = owner or new_owner()
        self.lease = lease

    def _free(self, now: datetime) -> sa.ColumnElement[bool]:
        """Not leased to another sender (never claimed, its lease run out, or our own)."""
        return sa.or_(_d.lease_owner.is_(None), _d.lease_owner == self.owner, _d.lease_until < now)

    async def claim_due(
        self, campaign_id: int, now: datetime, *, after_id: int = 0, limit: int = 200
    ) -> list[DueDelivery]:
        """Up to `limit` of the campaign's pending deliveries due by `now`, id > after_id, in id
        order, leased to this sender until now + lease; none leased to another sender, and none
        if the campaign is not sending (paused for quiet hours, cancelled, done).

        One campaign at a time on purpose: the (campaign_id, status, id) index then yields rows in
        id order, so a page costs its own size however large the outbox has grown. The sender
        keeps what it holds in memory out of its next claim (its own leases don't stop it).
        """
        s = subscribers.c
        query = (
            sa.select(
                _d.id,
                _d.campaign_id,
                _d.chat_id,
                _d.variant_id,
                _d.attempts,
                _d.parts_sent,
                _c.urgent,
                _c.kind,
                _d.message_id,
                s.status.label("subscriber_status"),
            )
            .select_from(
                deliveries.join(campaigns, _c.id == _d.campaign_id).outerjoin(
                    subscribers, s.chat_id == _d.chat_id
                )
            )
            .where(
                _d.campaign_id == campaign_id,
                _d.status == DeliveryStatus.PENDING.value,
                _d.next_attempt_at <= now,
                _d.id > after_id,
                _c.status == CampaignStatus.SENDING.value,
                self._free(now),
            )
            .order_by(_d.id)
            .limit(limit)
            .with_for_update(of=deliveries, skip_locked=True)
        )
        async with self._engine.begin() as conn:
            rows = (await conn.execute(query)).all()
            if rows:
                await conn.execute(
                    deliveries.update()
                    .where(_d.id.in_([row.id for row in rows]))
                    .values(lease_owner=self.owner, lease_until=now + self.lease)
                )
        return [
            DueDelivery(
                id=row.id,
                campaign_id=row.campaign_id,
                chat_id=row.chat_id,
                variant_id=row.variant_id,
                attempts=row.attempts,
                parts_sent=row.parts_sent,
                urgent=bool(row.urgent),
                subscriber_status=(
                    SubscriberStatus(row.subscriber_status) if row.subscriber_status else None
                ),
                edit=row.kind == CampaignKind.EDIT.value,
                message_id=row.message_id,
            )
            for row in rows
        ]

    async def next_due_at(self, *, urgent_only: bool = False) -> datetime | None:
        """When the earliest pending delivery of a sending campaign becomes due to this sender
        (one leased to another sender: when that lease runs out, if later)."""
        conditions: list[sa.ColumnElement[bool]] = [
            _d.status == DeliveryStatus.PENDING.value,
            _c.status == CampaignStatus.SENDING.value,
        ]
        if urgent_only:
            conditions.append(_c.urgent.is_(True))
        leased_longer = sa.and_(
            _d.lease_owner.is_not(None),
            _d.lease_owner != self.owner,
            _d.lease_until > _d.next_attempt_at,
        )
        due = sa.case((leased_longer, _d.lease_until), else_=_d.next_attempt_at)
        query = (
            sa.select(sa.func.min(due))
            .select_from(deliveries.join(campaigns, _c.id == _d.campaign_id))
            .where(*conditions)
        )
        async with self._engine.connect() as conn:
            value = (await conn.execute(query)).scalar_one_or_none()
        return as_utc(value)

    async def mark_sending(self, delivery_ids: Sequence[int], now: datetime) -> None:
        """Mark deliveries as going out, before their requests do (cleared by `record`)."""
        if not delivery_ids:
            return
        async with self._engine.begin() as conn:
            for chunk in _chunks(delivery_ids):
                await conn.execute(
                    deliveries.update().where(_d.id.in_(chunk)).values(sending_at=now)
                )

    async def reconcile_sending(self, now: datetime | None = None) -> int:
        """At a sender's start: the pending deliveries a previous run left marked as going out
        (it stopped before their result was recorded — killed, or cut off) are unmarked, to be
        sent again; returns how many (each may have reached the messenger: a duplicate). Rows
        still leased to the sender that marked them keep their mark until the lease runs out."""
        now = now or utcnow()
        marked = sa.and_(_d.status == DeliveryStatus.PENDING.value, _d.sending_at.is_not(None))
        async with self._engine.begin() as conn:
            counted = sa.select(sa.func.count()).select_from(deliveries).where(marked)
            count = (await conn.execute(counted)).scalar_one()
            await conn.execute(
                deliveries.update()
                .where(
                    _d.sending_at.is_not(None),
                    sa.or_(_d.status != DeliveryStatus.PENDING.value, self._free(now)),
                )
                .values(sending_at=None)
            )
        return int(count)

    async def renew(self, delivery_ids: Sequence[int], now: datetime) -> set[int]:
        """Extend this sender's leases on the rows it holds to now + lease; returns those still
        its own (a row whose lease ran out may have been taken by another sender)."""
        kept: set[int] = set()
        async with self._engine.begin() as conn:
            for chunk in _chunks(delivery_ids):
                await conn.execute(
                    deliveries.update()
                    .where(_d.id.in_(chunk), _d.lease_owner == self.owner)
                    .values(lease_until=now + self.lease)
                )
                owned = sa.select(_d.id).where(_d.id.in_(chunk), _d.lease_owner == self.owner)
                kept.update((await conn.execute(owned)).scalars())
        return kept

    async def release(self, delivery_ids: Sequence[int]) -> None:
        """Give back the leases of rows this sender holds and will not send (it stops)."""
        async with self._engine.begin() as conn:
            for chunk in _chunks(delivery_ids):
                await conn.execute(
                    deliveries.update()
                    .where(_d.id.in_(chunk), _d.lease_owner == self.owner)
                    .values(lease_owner=None, lease_until=None)
                )

    async def record(self, results: Sequence[DeliveryResult], now: datetime | None = None) -> None:
        """Record a batch of results in one transaction; blocked ones block their subscriber.
        Only rows still leased to this sender are written: another's result is never
        overwritten by one that lost its lease."""
        if not results:
            return
        now = now or utcnow()
        blocked_chats = {
            r.chat_id
            for r in results
            if r.status is DeliveryStatus.BLOCKED and r.chat_id is not None
        }
        async with self._engine.begin() as conn:
            await conn.execute(_RECORD, [_row_params(r, self.owner) for r in results])
            if blocked_chats:
                await conn.execute(
                    _BLOCK_SUBSCRIBER,
                    [{"b_chat_id": chat_id, "b_now": now} for chat_id in sorted(blocked_chats)],
                )

    async def finish_done(
        self, campaign_ids: Iterable[int], now: datetime | None = None
    ) -> list[int]:
        """Mark done those of the campaigns that have no pending delivery left; return them."""
        now = now or utcnow()
        no_pending = ~sa.exists().where(
            _d.campaign_id == _c.id, _d.status == DeliveryStatus.PENDING.value
        )
        finished: list[int] = []
        async with self._engine.begin() as conn:
            for campaign_id in sorted(set(campaign_ids)):
                result = await conn.execute(
                    campaigns.update()
                    .where(
                        _c.id == campaign_id,
                        _c.status.in_([CampaignStatus.SENDING.value, CampaignStatus.PAUSED.value]),
                        no_pending,
                    )
                    .values(status=CampaignStatus.DONE.value, finished_at=now)
                )
                if result.rowcount:
                    finished.append(campaign_id)
        return finished

    async def set_progress_message(self, campaign_id: int, message_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                campaigns.update()
                .where(_c.id == campaign_id)
                .values(progress_message_id=message_id)
            )

    async def pause_for_quiet_hours(self) -> list[int]:
        """Ordinary campaigns that are sending go to `paused`; returns their ids."""
        return await self._switch(
            CampaignStatus.SENDING, CampaignStatus.PAUSED, _c.urgent.is_(False)
        )

    async def resume_after_quiet_hours(self) -> list[int]:
        """Campaigns paused for quiet hours go back to `sending`; returns their ids."""
        return await self._switch(CampaignStatus.PAUSED, CampaignStatus.SENDING)

    async def _switch(
        self,
        old: CampaignStatus,
        new: CampaignStatus,
        *conditions: sa.ColumnElement[bool],
    ) -> list[int]:
        async with self._engine.begin() as conn:
            ids = list(
                (
                    await conn.execute(sa.select(_c.id).where(_c.status == old.value, *conditions))
                ).scalars()
            )
            if ids:
                await conn.execute(
                    campaigns.update()
                    .where(_c.id.in_(ids), _c.status == old.value)
                    .values(status=new.value)
                )
        return ids

    async def set_status_value(self, key: str, value: str, now: datetime | None = None) -> None:
        """A heartbeat in runtime_status (e.g. "last_send_at"), for `python -m bot status`."""
        now = now or utcnow()
        table = runtime_status
        for _ in range(2):  # an insert can lose a race with another writer: then update
            try:
                async with self._engine.begin() as conn:
                    updated = await conn.execute(
                        table.update()
                        .where(table.c.key == key)
                        .values(value=value[:300], updated_at=now)
                    )
                    if not updated.rowcount:
                        await conn.execute(
                            table.insert().values(key=key, value=value[:300], updated_at=now)
                        )
                return
            except IntegrityError:
                continue

    async def status_value(self, key: str) -> tuple[str, datetime] | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(runtime_status.c.value, runtime_status.c.updated_at).where(
                        runtime_status.c.key == key
                    )
                )
            ).first()
        if row is None:
            return None
        updated_at = as_utc(row.updated_at)
        assert updated_at is not None
        return row.value, updated_at
