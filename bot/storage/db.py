"""The engine and the migrations that bring a database to the current schema."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.database import CONNECTIONS, Database, SqliteDatabase, sqlite_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def create_engine(url: str, connections: int = CONNECTIONS) -> Database:
    """The database at `url` (see storage/database.py). SQLite (`sqlite:///path`; the older
    `sqlite+aiosqlite://` spelling means the same) gets its directory, WAL, foreign keys and a
    busy timeout; PostgreSQL is SQLAlchemy's async engine over asyncpg."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # The same number of connections as SQLite's and no overflow; a burst waits for one
        # of them instead of failing after the pool's timeout (an hour is "never" here).
        return create_async_engine(
            url, pool_pre_ping=True, pool_size=connections, max_overflow=0, pool_timeout=3600
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return SqliteDatabase(sqlite_engine(parsed, _sqlite_pragmas), connections)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows (a subscriber's /forget) are zeroed, not left readable in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def migrate(engine: Database, revision: str = "head") -> None:
    """Upgrade to `revision` over the application's own engine (no second configuration)."""

    def upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    await _run_migrations(engine, upgrade)


async def downgrade(engine: Database, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    await _run_migrations(engine, run)


async def _run_migrations(engine: Database, migrations: Callable[[Connection], None]) -> None:
    """Run `migrations` in one transaction. On SQLite with foreign keys off meanwhile: a batch
    migration recreates a table (copy, drop, rename), and dropping the old table with foreign
    keys on would cascade into the tables that reference it (deliveries of campaigns, say). The
    pragma is a no-op inside a transaction, so it goes first; the keys are checked at the end."""
    sqlite = engine.dialect.name == "sqlite"

    def run(connection: Connection) -> None:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                migrations(connection)
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                connection.commit()
                if broken:
                    raise RuntimeError(f"migrations broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()

    async with engine.connect() as connection:
        await connection.run_sync(run)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


# How long a checkpoint may wait for readers and writers: while it waits it holds writers off,
# so it must be a moment, never the connections' 30-second busy timeout.
CHECKPOINT_WAIT_S = 0.2


async def purge_deleted(engine: Database) -> bool:
    """Make deletions final on disk: SQLite's write-ahead log still holds old page images.

    One bounded attempt on a connection of its own: `wal_checkpoint(TRUNCATE)` copies the log
    into the database file (where `secure_delete` has zeroed the deleted rows) and empties the
    log. While another connection reads an older snapshot the log can't be emptied; then this
    gives up after CHECKPOINT_WAIT_S and returns False, and the caller tries again later. True
    once nothing deleted is left in the log (or there is no log: not SQLite, in memory).
    """
    if engine.dialect.name != "sqlite":
        return True
    path = engine.url.database
    if not path or path == ":memory:":
        return True

    def attempt() -> bool:
        if not Path(path).exists():
            return True
        try:
            with closing(sqlite3.connect(path, timeout=CHECKPOINT_WAIT_S)) as conn:
                busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError:  # locked past the wait: someone else is checkpointing
            return False
        return not busy

    return await asyncio.to_thread(attempt)
