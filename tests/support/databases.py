"""The database a test works on: SQLite in the test's folder by default, or, under `make test-pg`
(TEST_DATABASE_URL=postgresql+asyncpg://…), a fresh PostgreSQL database of its own on that
server, dropped when the session ends.

Tests of what only SQLite has (its file, WAL, backups by file copy, the file lock beside it) ask
for `sqlite_url` and stay on SQLite under either switch.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
_created: list[str] = []
_made: dict[tuple[str, str], str] = {}
_servers: dict[str, str] = {}  # a database postgres_url made → its server
_lock = threading.Lock()


def on_postgres() -> bool:
    return bool(TEST_DATABASE_URL) and make_url(TEST_DATABASE_URL).get_backend_name() == (
        "postgresql"
    )


def sqlite_url(tmp_path: Path, name: str = "infozona") -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/{name}.db"


def scratch_url(tmp_path: Path, name: str = "infozona") -> str:
    """A database no other test uses: `name`.db in `tmp_path`, or a new PostgreSQL database
    (the same one each time a test asks with the same folder and name)."""
    if not on_postgres():
        return sqlite_url(tmp_path, name)
    key = (str(tmp_path), name)
    with _lock:
        if key in _made:
            return _made[key]
    database = f"test_{name[:20]}_{uuid.uuid4().hex[:12]}".lower()
    _admin(f'CREATE DATABASE "{database}"')
    url = make_url(TEST_DATABASE_URL).set(database=database).render_as_string(hide_password=False)
    with _lock:
        _created.append(database)
        _made[key] = url
    return url


def drop_scratch_databases() -> None:
    """Drop every database `scratch_url` made (at the end of the session)."""
    with _lock:
        names, _created[:] = list(_created), []
        _made.clear()
    for database in names:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', _servers.pop(database, None))


# The local servers the tests of several processes use under `make test` too (the dev and CI
# machines run PostgreSQL 15 and Redis 7 on loopback).
LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def answers(port: int, host: str = "127.0.0.1") -> bool:
    """A server listens on host:port (the local PostgreSQL 5432, Redis 6379)."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


def postgres_url(name: str = "infozona") -> str:
    """A new database on PostgreSQL whichever switch the suite runs under (TEST_DATABASE_URL's
    server, else the local one), dropped when the session ends."""
    server = TEST_DATABASE_URL if on_postgres() else LOCAL_POSTGRES
    database = f"test_{name[:20]}_{uuid.uuid4().hex[:12]}".lower()
    _admin(f'CREATE DATABASE "{database}"', server)
    with _lock:
        _created.append(database)
        _servers[database] = server
    return make_url(server).set(database=database).render_as_string(hide_password=False)


def _admin(statement: str, server: str | None = None) -> None:
    """Run one statement on the server's own database outside any transaction (CREATE and DROP
    DATABASE can't be in one), on a thread of its own so a running event loop doesn't matter."""

    async def run() -> None:
        engine = create_async_engine(server or TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.exec_driver_sql(statement)
        finally:
            await engine.dispose()

    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as error:  # handed to the caller's thread
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
