"""Which process is the active worker: the one sender and timetable of a database.

Several `worker` (or `run`) processes may share one database; one holds the lock and sends,
the others wait as hot standbys and take over when it dies. The lock lives in the database's
own engine, never in a home-made cluster:

- PostgreSQL: a session-level advisory lock on a connection of its own, outside the pool. The
  server frees it the moment that session ends (the process killed, the machine gone, the
  connection cut), and a standby's next try takes it. While held, a round trip on the same
  connection confirms it: a live session still holds its lock.
- SQLite (one machine): an exclusive `flock` on a file beside the database. The kernel frees it
  when the process exits, however it exits. (The command line's instance lock, instance.py,
  already keeps a second process off a SQLite database; this one orders workers within one.)
- An in-memory database belongs to one process: always granted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.storage.database import Database
from bot.storage.instance import DatabaseBusyError, InstanceLock

log = logging.getLogger(__name__)

# The advisory lock's key: the same in every process of the bot (a bigint of its own; advisory
# locks are per database, so bots on other databases of the server don't meet it).
ADVISORY_KEY = 0x1AF0_0000_0000_2014
CONFIRM_TIMEOUT = 3.0  # a confirmation not answered by then counts as the lock lost


def new_owner() -> str:
    """This process's name in leases and in status: "host:pid:random" (at most 64 chars)."""
    host = socket.gethostname()[:40] or "host"
    return f"{host}:{os.getpid()}:{secrets.token_hex(4)}"


class Leadership(Protocol):
    owner: str
    # How long a process that lost the lock may still believe it holds it (its confirmation
    # interval and timeout): 0 when losing it means the process is gone.
    fence: float

    async def try_acquire(self) -> bool:
        """Take the lock if it is free; True if this process holds it now."""
        ...

    async def confirm(self) -> bool:
        """Still held? False once it is lost (then the caller stops and waits again)."""
        ...

    async def release(self) -> None: ...


class PostgresLeadership:
    fence = CONFIRM_TIMEOUT

    def __init__(self, url: str, owner: str, key: int = ADVISORY_KEY) -> None:
        self.owner = owner
        self._key = key
        self._url = url
        self._engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None
        self._held = False

    async def try_acquire(self) -> bool:
        if self._held:
            return await self.confirm()
        try:
            if self._conn is None:
                self._engine = self._engine or create_async_engine(self._url, poolclass=NullPool)
                self._conn = await self._engine.connect()
                # The lock's session never sits in a transaction: autocommit.
                await self._conn.execution_options(isolation_level="AUTOCOMMIT")
                await self._conn.execute(
                    sa.text("SELECT set_config('application_name', :name, false)"),
                    {"name": f"infozona worker {self.owner}"[:63]},
                )
            taken = await asyncio.wait_for(
                self._conn.execute(
                    sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
                ),
                CONFIRM_TIMEOUT,
            )
            self._held = bool(taken.scalar_one())
        except (TimeoutError, SQLAlchemyError, OSError) as exc:
            log.warning("worker lock: the database did not answer: %s", type(exc).__name__)
            await self._drop_connection()
            return False
        return self._held

    async def confirm(self) -> bool:
        if not self._held or self._conn is None:
            return False
        try:
            await asyncio.wait_for(self._conn.execute(sa.text("SELECT 1")), CONFIRM_TIMEOUT)
        except (TimeoutError, SQLAlchemyError, OSError) as exc:
            log.error("worker lock lost: its connection failed: %s", type(exc).__name__)
            await self._drop_connection()
            return False
        return True

    async def release(self) -> None:
        if self._held and self._conn is not None:
            with contextlib.suppress(TimeoutError, SQLAlchemyError, OSError):
                await asyncio.wait_for(
                    self._conn.execute(
                        sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                    ),
                    CONFIRM_TIMEOUT,
                )
        await self._drop_connection()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def _drop_connection(self) -> None:
        """Close the lock's session (the server frees the lock with it)."""
        self._held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.invalidate(), CONFIRM_TIMEOUT)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), CONFIRM_TIMEOUT)


class FileLeadership:
    """The instance lock (instance.py) on `<database>.worker-lock`, taken without waiting."""

    fence = 0.0

    def __init__(self, path: Path, owner: str) -> None:
        self.owner = owner
        self._lock = InstanceLock(path)
        self._held = False

    async def try_acquire(self) -> bool:
        if not self._held:
            try:
                self._lock.acquire(f"worker {self.owner}", datetime.now(UTC))
            except DatabaseBusyError:
                return False
            self._held = True
        return True

    async def confirm(self) -> bool:
        return self._held

    async def release(self) -> None:
        self._lock.release()  # closing the file frees the flock
        self._held = False


class SoleLeadership:
    """An in-memory database: only this process can see it."""

    fence = 0.0

    def __init__(self, owner: str) -> None:
        self.owner = owner

    async def try_acquire(self) -> bool:
        return True

    async def confirm(self) -> bool:
        return True

    async def release(self) -> None:
        return None


def leadership_for(engine: Database, owner: str) -> Leadership:
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresLeadership(url.render_as_string(hide_password=False), owner)
    if url.database and url.database != ":memory:":
        return FileLeadership(Path(f"{url.database}.worker-lock"), owner)
    return SoleLeadership(owner)
