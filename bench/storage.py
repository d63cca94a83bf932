"""What one database round trip costs: `python -m bench.storage [--ops 3000]`.

The shapes the bot makes per update, one at a time (awaited, as a handler does), on ~5000
subscribers with random chat ids:

- read: `SubscriberRepository.get(chat_id)`;
- write: one subscriber row UPDATEd and committed (`async with db.begin()`, the statement
  `SubscriberRepository._update` makes; `set_topics` is this plus a read);
- dialog: `DialogStateRepository.get(key)` (aiogram's FSM state of the chat).

Through these paths, interleaved round by round in one process so drift on a shared machine hits
all alike:

- sqlite: the project's `Database` (`bot.storage.db.create_engine("sqlite:///…")`, migrated);
- sqlite_floor: bare sqlite3 on the event-loop thread, the same SQL as prepared text, the same
  pragmas; no SQLAlchemy, no thread hop, no Subscriber object;
- aiosqlite: SQLAlchemy's async engine over aiosqlite (the path before 8905c2c), when the
  package is importable (it is no dependency any more);
- pg: PostgreSQL (BENCH_POSTGRES_URL, default below) through the same repositories over
  `create_engine(url)` (SQLAlchemy's AsyncEngine, asyncpg), the schema made by the migrations
  in a scratch schema dropped afterwards;
- pg_no_ping: the same engine without `pool_pre_ping` (the "SELECT 1"-like round trip every
  block makes on checking a connection out), for the record;
- pg_floor: bare asyncpg, prepared statements, one autocommitted statement per operation;
- pg_threads: SQLAlchemy's sync engine over psycopg, each connection in a thread of its own
  and one hop a statement (how SQLite was driven from 8905c2c to 0d95b5f), when psycopg is
  importable: whether asyncpg or threads suit PostgreSQL better.

Figures are CPU milliseconds per operation (`time.process_time`: this process, all its threads;
the PostgreSQL server's own CPU is not in them), the median of the rounds; `*_wall_ms` is the
elapsed time per operation. Last line: `storage: read_ms=… floor_read_ms=… write_ms=…
floor_write_ms=… pg_read_ms=… pg_floor_read_ms=… …` (keys of skipped paths left out).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine import CursorResult, Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.base import Executable

from bot.content.models import ALL_TOPICS, Topic
from bot.storage.database import CONNECTIONS, Database
from bot.storage.db import _sqlite_pragmas, create_engine, migrate, utcnow
from bot.storage.dialogs import DialogStateRepository
from bot.storage.schema import fsm_states, subscribers
from bot.storage.subscribers import SubscriberRepository, encode_topics
from tests.support.subscribers import onboarded_row

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SUBSCRIBERS = 5000
FIRST_CHAT = 1_000_000
ROUNDS = 5
SHAPES = ("read", "write", "dialog")
# Two topic sets a write alternates between, so every UPDATE changes the row.
TOPICS = (encode_topics(ALL_TOPICS), encode_topics({Topic.EVENTS, Topic.CASES}))

COLUMNS = ", ".join(c.name for c in subscribers.c)
READ_SQL = f"SELECT {COLUMNS} FROM subscribers WHERE chat_id = {{0}}"
WRITE_SQL = "UPDATE subscribers SET topics = {0}, updated_at = {1} WHERE chat_id = {2}"
DIALOG_SQL = "SELECT state, data FROM fsm_states WHERE key = {0}"

Op = Callable[[int], Awaitable[object]]
T = TypeVar("T")


def dialog_key(chat_id: int) -> str:
    """aiogram's DefaultKeyBuilder(with_destiny=True) key of a private chat."""
    return f"fsm:123456789:{chat_id}:{chat_id}:default"


@dataclass
class Route:
    """One way to the database: an operation per shape, and the figures it gathered."""

    name: str
    ops: dict[str, Op]
    cpu: dict[str, list[float]] = field(default_factory=dict)
    wall: dict[str, list[float]] = field(default_factory=dict)

    def median(self, shape: str, wall: bool = False) -> float:
        return statistics.median((self.wall if wall else self.cpu)[shape])


# ---------------------------------------------------------------- data


def subscriber_rows() -> list[dict[str, Any]]:
    now = utcnow()
    return [
        onboarded_row(
            FIRST_CHAT + n, f"Учитель {n}", now, org_name=f"Школа № {n % 40 + 1}", topics=TOPICS[0]
        )
        for n in range(SUBSCRIBERS)
    ]


def dialog_rows() -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "key": dialog_key(FIRST_CHAT + n),
            "chat_id": FIRST_CHAT + n,
            "state": "Question:text" if n % 2 else None,
            "data": '{"topic": "events", "page": 2}' if n % 2 else "{}",
            "updated_at": now,
        }
        for n in range(SUBSCRIBERS)
    ]


async def seed(db: Database) -> None:
    async with db.begin() as conn:
        await conn.execute(subscribers.insert(), subscriber_rows())
        await conn.execute(fsm_states.insert(), dialog_rows())


def project_ops(db: Database) -> dict[str, Op]:
    """The bot's own code: the repositories, and the UPDATE block `_update` makes."""
    people = SubscriberRepository(db)
    dialogs = DialogStateRepository(db)
    flip = iter(range(1 << 62))

    async def write(chat_id: int) -> None:
        async with db.begin() as conn:
            await conn.execute(
                subscribers.update()
                .where(subscribers.c.chat_id == chat_id)
                .values(topics=TOPICS[next(flip) % 2], updated_at=utcnow())
            )

    async def dialog(chat_id: int) -> object:
        return await dialogs.get(dialog_key(chat_id))

    return {"read": people.get, "write": write, "dialog": dialog}


# ---------------------------------------------------------------- SQLite


def sqlite_floor_ops(conn: sqlite3.Connection) -> dict[str, Op]:
    read_sql, write_sql, dialog_sql = (s.format(*"???") for s in (READ_SQL, WRITE_SQL, DIALOG_SQL))
    flip = iter(range(1 << 62))

    async def read(chat_id: int) -> object:
        return conn.execute(read_sql, (chat_id,)).fetchone()

    async def write(chat_id: int) -> None:
        # The text SQLAlchemy stores a DateTime as on SQLite (UTC, the zone dropped).
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.execute(write_sql, (TOPICS[next(flip) % 2], now, chat_id))
        conn.commit()

    async def dialog(chat_id: int) -> object:
        return conn.execute(dialog_sql, (dialog_key(chat_id),)).fetchone()

    return {"read": read, "write": write, "dialog": dialog}


def aiosqlite_engine(path: Path) -> AsyncEngine:
    """The engine `create_engine` made before 8905c2c: SQLAlchemy's async dialect."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 30})
    sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


async def sqlite_routes(stack: AsyncExitStack, tmp: Path, notes: list[str]) -> list[Route]:
    seeded = tmp / "seeded.db"
    db = create_engine(f"sqlite:///{seeded}")
    await migrate(db)
    await seed(db)
    await db.dispose()
    with closing(sqlite3.connect(seeded)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def copy(name: str) -> Path:  # each route its own file: no route's log to checkpoint
        shutil.copyfile(seeded, tmp / name)
        return tmp / name

    project = create_engine(f"sqlite:///{copy('project.db')}")
    stack.push_async_callback(project.dispose)
    floor = sqlite3.connect(copy("floor.db"), timeout=30)
    _sqlite_pragmas(floor, None)
    stack.callback(floor.close)
    routes = [
        Route("sqlite", project_ops(project)),
        Route("sqlite_floor", sqlite_floor_ops(floor)),
    ]
    if importlib.util.find_spec("aiosqlite") is None:
        notes.append("aiosqlite: not installed, skipped")
    else:
        old = aiosqlite_engine(copy("aiosqlite.db"))
        stack.push_async_callback(old.dispose)
        routes.append(Route("aiosqlite", project_ops(old)))
    return routes


# ---------------------------------------------------------------- PostgreSQL


def in_schema(db: AsyncEngine, schema: str) -> None:
    """Every new connection of `db` works in `schema` (set on the driver's own connection, out
    of any transaction, so a pool's rollback does not undo it)."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.run_async(lambda c: c.execute(f'SET search_path TO "{schema}"'))

    sa.event.listen(db.sync_engine, "connect", on_connect)


def pg_floor_ops(conn: Any, statements: dict[str, Any]) -> dict[str, Op]:
    flip = iter(range(1 << 62))
    write_sql = WRITE_SQL.format("$1", "$2", "$3")

    async def read(chat_id: int) -> object:
        return await statements["read"].fetchrow(chat_id)

    async def write(chat_id: int) -> None:  # autocommitted: one round trip
        await conn.execute(write_sql, TOPICS[next(flip) % 2], datetime.now(UTC), chat_id)

    async def dialog(chat_id: int) -> object:
        return await statements["dialog"].fetchrow(dialog_key(chat_id))

    return {"read": read, "write": write, "dialog": dialog}


class _ThreadConnection:
    """A block's connection: every statement one hop to the connection's own thread."""

    def __init__(self, conn: SyncConnection, thread: ThreadPoolExecutor) -> None:
        self.conn = conn
        self.thread = thread

    async def hop(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.thread, fn)

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        return await self.hop(lambda: self.conn.execute(statement, parameters))

    async def stream(self, statement: Executable, parameters: Any = None) -> Any:
        raise NotImplementedError  # not a shape measured here

    async def exec_driver_sql(self, statement: str) -> CursorResult[Any]:
        return await self.hop(lambda: self.conn.exec_driver_sql(statement))

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.hop(lambda: fn(self.conn, *args))

    async def commit(self) -> None:
        await self.hop(self.conn.commit)

    async def rollback(self) -> None:
        await self.hop(self.conn.rollback)


class ThreadedDatabase:
    """A sync engine driven the way SQLite was until 0d95b5f: a fixed number of connections,
    each with a thread of its own, one hop a statement and one to end the transaction."""

    def __init__(self, engine: Engine, connections: int = CONNECTIONS) -> None:
        self.sync_engine = engine
        self._size = connections
        self._idle: asyncio.Queue[_ThreadConnection] | None = None
        self._all: list[_ThreadConnection] = []

    @property
    def dialect(self) -> Dialect:
        return self.sync_engine.dialect

    @property
    def url(self) -> sa.URL:
        return self.sync_engine.url

    async def _queue(self) -> asyncio.Queue[_ThreadConnection]:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for n in range(self._size):
                thread = ThreadPoolExecutor(1, thread_name_prefix=f"pg-{n}")
                conn = await asyncio.get_running_loop().run_in_executor(
                    thread, self.sync_engine.connect
                )
                self._all.append(_ThreadConnection(conn, thread))
                self._idle.put_nowait(self._all[-1])
        return self._idle

    @asynccontextmanager
    async def _block(self, commit: bool) -> AsyncIterator[_ThreadConnection]:
        queue = await self._queue()
        conn = await queue.get()
        try:
            yield conn
        except BaseException:
            await conn.rollback()
            raise
        else:
            if conn.conn.in_transaction():
                await (conn.commit() if commit else conn.rollback())
        finally:
            queue.put_nowait(conn)

    def connect(self) -> AbstractAsyncContextManager[Any]:
        return self._block(commit=False)

    def begin(self) -> AbstractAsyncContextManager[Any]:
        return self._block(commit=True)

    async def dispose(self) -> None:
        for conn in self._all:
            await conn.hop(conn.conn.close)
            conn.thread.shutdown(wait=False)
        self._all, self._idle = [], None
        self.sync_engine.dispose()


def psycopg_threads(url: sa.URL, schema: str) -> ThreadedDatabase | None:
    """PostgreSQL the way SQLite used to be driven: SQLAlchemy's sync engine over psycopg, each
    connection in a thread of its own."""
    if importlib.util.find_spec("psycopg") is None:
        return None
    sync_url = url.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(
        sync_url, poolclass=NullPool, connect_args={"options": f"-c search_path={schema}"}
    )
    return ThreadedDatabase(engine)


async def pg_routes(stack: AsyncExitStack, notes: list[str]) -> list[Route]:
    raw_url = os.environ.get("BENCH_POSTGRES_URL", POSTGRES_URL)
    url = make_url(raw_url)
    if importlib.util.find_spec("asyncpg") is None:
        notes.append("pg: asyncpg not installed (pip install -e '.[postgres]'), skipped")
        return []
    asyncpg = importlib.import_module("asyncpg")
    params = {
        "host": url.host,
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
        "database": url.database,
    }
    try:
        admin = await asyncpg.connect(**params, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        notes.append(f"pg: {url.render_as_string()} does not answer ({error!r}), skipped")
        return []
    schema = f"bench_storage_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE SCHEMA "{schema}"')

    async def drop() -> None:
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()

    stack.push_async_callback(drop)
    db = create_engine(raw_url)
    assert isinstance(db, AsyncEngine)
    in_schema(db, schema)
    stack.push_async_callback(db.dispose)
    await migrate(db)
    notes.append(f"pg: schema by the alembic migrations, in scratch schema {schema} (dropped)")
    await seed(db)
    floor = await asyncpg.connect(**params, server_settings={"search_path": schema})
    stack.push_async_callback(floor.close)
    statements = {
        "read": await floor.prepare(READ_SQL.format("$1")),
        "dialog": await floor.prepare(DIALOG_SQL.format("$1")),
    }
    # create_engine's own arguments, but for the ping on checkout.
    unpinged = create_async_engine(
        raw_url, pool_pre_ping=False, pool_size=CONNECTIONS, max_overflow=0, pool_timeout=3600
    )
    in_schema(unpinged, schema)
    stack.push_async_callback(unpinged.dispose)
    routes = [
        Route("pg", project_ops(db)),
        Route("pg_no_ping", project_ops(unpinged)),
        Route("pg_floor", pg_floor_ops(floor, statements)),
    ]
    threads = psycopg_threads(url, schema)
    if threads is None:
        notes.append("pg_threads: psycopg not installed, skipped")
    else:
        stack.push_async_callback(threads.dispose)
        routes.append(Route("pg_threads", project_ops(threads)))
    return routes


# ---------------------------------------------------------------- measuring


async def run(route: Route, shape: str, ids: list[int]) -> None:
    op = route.ops[shape]
    cpu, wall = time.process_time(), time.perf_counter()
    for chat_id in ids:
        await op(chat_id)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    route.cpu.setdefault(shape, []).append(cpu * 1000 / len(ids))
    route.wall.setdefault(shape, []).append(wall * 1000 / len(ids))


async def bench(ops: int, rounds: int, tmp: Path) -> list[str]:
    rng = random.Random(10)
    chats = [FIRST_CHAT + n for n in range(SUBSCRIBERS)]
    per_round = max(1, ops // rounds)
    notes: list[str] = []
    async with AsyncExitStack() as stack:
        routes = await sqlite_routes(stack, tmp, notes)
        routes += await pg_routes(stack, notes)
        for route in routes:  # warm: connections open, statements compiled and cached
            for shape in SHAPES:
                for chat_id in rng.sample(chats, 50):
                    await route.ops[shape](chat_id)
        for n in range(rounds):
            order = routes[n % len(routes) :] + routes[: n % len(routes)]
            for shape in SHAPES:
                ids = [rng.choice(chats) for _ in range(per_round)]
                for route in order:  # the same ids for every route in a round
                    await run(route, shape, ids)
    lines = [
        f"subscribers={SUBSCRIBERS} ops={per_round * rounds} per shape and path, {rounds} rounds;"
        " CPU ms per operation (this process, all threads), median of rounds; wall ms beside",
        *notes,
    ]
    summary: dict[str, float] = {}
    prefixes = {
        "sqlite": "",
        "sqlite_floor": "floor_",
        "aiosqlite": "aiosqlite_",
        "pg": "pg_",
        "pg_no_ping": "pg_no_ping_",
        "pg_floor": "pg_floor_",
        "pg_threads": "pg_threads_",
    }
    for route in routes:
        cpu = " ".join(f"{s}_ms={route.median(s):.3f}" for s in SHAPES)
        wall = " ".join(f"{s}_wall_ms={route.median(s, wall=True):.3f}" for s in SHAPES)
        lines.append(f"{route.name}: {cpu} {wall}")
        for shape in SHAPES:
            summary[f"{prefixes[route.name]}{shape}_ms"] = route.median(shape)
    keys = [
        "read_ms", "floor_read_ms", "write_ms", "floor_write_ms", "dialog_ms", "floor_dialog_ms",
        "aiosqlite_read_ms", "aiosqlite_write_ms",
        "pg_read_ms", "pg_floor_read_ms", "pg_write_ms", "pg_floor_write_ms",
        "pg_no_ping_read_ms", "pg_no_ping_write_ms", "pg_threads_read_ms", "pg_threads_write_ms",
    ]  # fmt: skip
    lines.append("storage: " + " ".join(f"{k}={summary[k]:.3f}" for k in keys if k in summary))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=3000, help="operations per shape and path")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        for line in asyncio.run(bench(args.ops, args.rounds, Path(tmp))):
            print(line, flush=True)


if __name__ == "__main__":
    main()
