"""Timetable slots (each runs once) and heartbeat values for `python -m bot status`."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.storage.database import Database
from bot.storage.db import as_utc, utcnow
from bot.storage.schema import runtime_status, timetable_runs

# Heartbeat keys in runtime_status (the sender writes its own, outbox.LAST_SEND_AT).
LAST_TICK_AT = "last_tick_at"  # the timetable's heartbeat job ran
LAST_POLL_AT = "last_poll_at"  # getUpdates last succeeded (updated_at is that moment)
POLL_CONFLICT_SINCE = "poll_conflict_since"  # value: ISO time of the first 409 of a run, or ""
# --- alerts to the owners (services/alerts.py) ---
# Since when getUpdates has been answered 401 Unauthorized (the token revoked), or "".
TOKEN_REJECTED_SINCE = "token_rejected_since"
# The timetable's last backup failed: "ISO time of the failure|what failed"; "" after a success.
BACKUP_FAILED = "backup_failed"
# A feed failing since (ISO time), as the alert checker saw it start; gone once it recovers.
FEED_FAILING_SINCE = "feed_failing_since:"  # + the feed's id
# What the owners were alerted to and when (services/alerts.py), one key per problem.
ALERTED = "alerted:"  # + the problem's key


# How long a slot's run may take before another worker may run it again (the first one died).
SLOT_LEASE = timedelta(minutes=15)


class TimetableRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def claim(
        self, slot: str, now: datetime | None = None, lease: timedelta = SLOT_LEASE
    ) -> bool:
        """Take a slot for this run; False if any run, here or elsewhere, already took it —
        unless that run never finished and its lease has run out (its worker died)."""
        now = now or utcnow()
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    timetable_runs.insert().values(
                        slot=slot, started_at=now, lease_until=now + lease
                    )
                )
        except IntegrityError:
            pass
        else:
            return True
        runs = timetable_runs.c
        async with self._engine.begin() as conn:
            taken_over = await conn.execute(
                timetable_runs.update()
                .where(
                    runs.slot == slot,
                    runs.finished_at.is_(None),
                    runs.lease_until.is_not(None),
                    runs.lease_until < now,
                )
                .values(started_at=now, lease_until=now + lease)
            )
        return bool(taken_over.rowcount)

    async def finish(self, slot: str, outcome: str, now: datetime | None = None) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                timetable_runs.update()
                .where(timetable_runs.c.slot == slot)
                .values(finished_at=now or utcnow(), outcome=outcome[:300])
            )

    async def release(self, slot: str) -> None:
        """Give a slot back after a failed run, so the next tick can try again."""
        async with self._engine.begin() as conn:
            await conn.execute(timetable_runs.delete().where(timetable_runs.c.slot == slot))

    async def last_started(self, prefix: str) -> datetime | None:
        async with self._engine.connect() as conn:
            value = (
                await conn.execute(
                    sa.select(sa.func.max(timetable_runs.c.started_at)).where(
                        timetable_runs.c.slot.like(f"{prefix}%")
                    )
                )
            ).scalar()
        return as_utc(value)


class RuntimeStatusRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def put(self, key: str, value: str, now: datetime | None = None) -> None:
        now = now or utcnow()
        update = (
            runtime_status.update()
            .where(runtime_status.c.key == key)
            .values(value=value[:300], updated_at=now)
        )
        async with self._engine.begin() as conn:
            if (await conn.execute(update)).rowcount:
                return
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    runtime_status.insert().values(key=key, value=value[:300], updated_at=now)
                )
        except IntegrityError:  # another process wrote the first value meanwhile
            async with self._engine.begin() as conn:
                await conn.execute(update)

    async def remove(self, key: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(runtime_status.delete().where(runtime_status.c.key == key))

    async def all(self) -> dict[str, tuple[str, datetime]]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(runtime_status))
            return {row.key: (row.value, as_utc(row.updated_at) or utcnow()) for row in rows}
