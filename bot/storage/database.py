"""The handle repositories talk to the database through.

Repositories write `async with db.connect() as conn` (reads) and `async with db.begin() as
conn` (writes, committed at the end) and `await conn.execute(statement)`; `Database` and
`Connection` below are that surface. Two things provide it:

- PostgreSQL: SQLAlchemy's own `AsyncEngine` over asyncpg, unchanged.
- SQLite: `SqliteDatabase`, SQLAlchemy Core's *synchronous* engine over the standard sqlite3
  module. A statement runs on the event loop itself and goes to its connection's thread only
  when it has to wait for another process's lock (see `_Worker`). The async dialect
  (aiosqlite) made four or five thread hops for one read (cursor, execute, fetch, close, the
  pool's rollback on return), each answer queued behind whatever the loop had to do: reading
  a subscriber through the repository cost 0.26 ms of CPU that way and 0.044 ms here (bare
  sqlite3: 0.006; `python -m bench.storage`), and a burst of onboardings waited mostly for
  those hops.

Either way a block first waits for one of a fixed number of connections, in an asyncio queue
with no timeout: a burst of updates waits its turn (and the bot answers late) instead of
failing with the pool's "QueuePool limit reached" after 30 seconds.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, TypeVar, TypeVarTuple, overload

import sqlalchemy as sa
from sqlalchemy.engine import URL, CursorResult, Dialect, Engine, Row
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows

T = TypeVar("T")
_Ts = TypeVarTuple("_Ts")

# How many connections a process uses at most (the PostgreSQL pool's size too). Writes to
# SQLite take turns anyway; reads in WAL mode run side by side.
CONNECTIONS = 4
STREAM_CHUNK = 500
# How long a statement waits for a lock held by another process (in its thread, never on the
# loop); the same 30 s as sqlite3's default busy timeout before.
BUSY_MS = 30_000
# A passive checkpoint (copying the write-ahead log into the database file) every this many
# write blocks, in the writer's thread; SQLite's own would run inside a commit, on the loop.
CHECKPOINT_EVERY = 500


class Rows(Protocol):
    """What `Connection.stream` gives: rows fetched a chunk at a time."""

    def __aiter__(self) -> AsyncIterator[Row[*tuple[Any, ...]]]: ...


class Connection(Protocol):
    """A block's connection (SQLAlchemy's `AsyncConnection` is one)."""

    @overload
    async def execute(  # type: ignore[overload-overlap]  # as SQLAlchemy's own
        self, statement: TypedReturnsRows[*_Ts], parameters: Any = None
    ) -> CursorResult[*_Ts]: ...

    @overload
    async def execute(
        self, statement: Executable, parameters: Any = None
    ) -> CursorResult[Any]: ...

    def stream(self, statement: Executable, parameters: Any = None) -> Awaitable[Rows]: ...

    async def exec_driver_sql(self, statement: str) -> CursorResult[Any]: ...

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class Database(Protocol):
    """Blocks of work on the database (SQLAlchemy's `AsyncEngine` is one)."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def url(self) -> URL: ...

    def connect(self) -> AbstractAsyncContextManager[Connection]: ...

    def begin(self) -> AbstractAsyncContextManager[Connection]: ...

    async def dispose(self) -> None: ...


# ---------------------------------------------------------------- SQLite


class _Cursor(sqlite3.Cursor):
    """Fetches a query's rows within `execute`, in the connection's own thread, so that reading
    them later (on the event loop) touches no SQLite state."""

    _rows: list[Any] | None = None

    def execute(self, sql: str, parameters: Any = ()) -> _Cursor:
        super().execute(sql, parameters)
        connection = self.connection
        if self.description is not None and getattr(connection, "prefetch", True):
            self._rows = super().fetchall()
            self._rows.reverse()
        else:
            self._rows = None
        return self

    def fetchone(self) -> Any:
        if self._rows is None:
            return super().fetchone()
        return self._rows.pop() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        if self._rows is None:
            return super().fetchmany(self.arraysize if size is None else size)
        taken = self._rows[-(size or self.arraysize) :]
        del self._rows[-(size or self.arraysize) :]
        taken.reverse()
        return taken

    def fetchall(self) -> list[Any]:
        if self._rows is None:
            return super().fetchall()
        rows, self._rows = self._rows, []
        rows.reverse()
        return rows


class _SqliteConnection(sqlite3.Connection):
    prefetch = True

    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


def _busy(error: sa.exc.OperationalError) -> bool:
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class _Worker:
    """One SQLite connection, used on the event loop, and a thread for when it must wait.

    A statement of this bot takes SQLite microseconds (an indexed read, a one-row write to
    the write-ahead log without fsync): less than handing it to a thread and back, and a hop's
    result waits its turn in the loop's queue, which under a burst is where the time goes. So
    statements run on the loop with SQLite's busy timeout at zero. Only when the file is locked
    by someone else (another process writing, a checkpoint) does the statement — which then
    did nothing — go to the connection's thread and wait there, with the full timeout, while
    the loop goes on. Checkpoints, which write the database file and sync it, are kept off the
    loop too (`SqliteDatabase` runs them in the thread every CHECKPOINT_EVERY writes).
    """

    def __init__(self, engine: Engine, name: str, *, inline: bool = True) -> None:
        self._engine = engine
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._conn: SyncConnection | None = None
        self._inline = inline
        # The thread's latest work: until it has finished (a cancelled block's statement may
        # still be waiting for a lock there), the connection is used only from the thread.
        self._in_thread: Future[Any] | None = None

    def _connection(self) -> SyncConnection:
        if self._conn is None or self._conn.closed:
            self._conn = self._engine.connect()
            self._conn.exec_driver_sql(f"PRAGMA busy_timeout={0 if self._inline else BUSY_MS}")
            self._conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            self._conn.commit()
        return self._conn

    async def call(self, fn: Callable[[SyncConnection], T]) -> T:
        idle = self._in_thread is None or self._in_thread.done()
        if self._inline and idle and self._conn is not None and not self._conn.closed:
            try:
                return fn(self._conn)
            except sa.exc.OperationalError as error:
                if not _busy(error):
                    raise
        return await self.in_thread(fn)

    async def in_thread(self, fn: Callable[[SyncConnection], T]) -> T:
        """`fn` in the connection's thread, waiting for locks as long as BUSY_MS."""

        def patiently() -> T:
            conn = self._connection()
            if not self._inline:
                return fn(conn)
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.execute(f"PRAGMA busy_timeout={BUSY_MS}")
            try:
                return fn(conn)
            finally:
                raw.execute("PRAGMA busy_timeout=0")

        work = self._in_thread = self._thread.submit(patiently)
        return await asyncio.wrap_future(work)

    async def end(self, commit: bool) -> None:
        """End the block's transaction (nothing to do for a read: SQLite opened none)."""
        conn = self._conn
        if conn is None or not conn.in_transaction():
            return
        await self.call(lambda c: c.commit() if commit else c.rollback())

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, conn.close)
        self._thread.shutdown(wait=False)


class _Stream:
    def __init__(self, worker: _Worker, result: CursorResult[Any]) -> None:
        self._worker = worker
        self._result = result

    async def __aiter__(self) -> AsyncIterator[Row[*tuple[Any, ...]]]:
        while True:
            chunk = await self._worker.in_thread(lambda _c: self._result.fetchmany(STREAM_CHUNK))
            if not chunk:
                return
            for row in chunk:
                yield row


class SqliteConnection:
    """A block's connection: every call is one hop to the connection's thread."""

    def __init__(self, worker: _Worker) -> None:
        self._worker = worker

    @overload
    async def execute(  # type: ignore[overload-overlap]  # as SQLAlchemy's own
        self, statement: TypedReturnsRows[*_Ts], parameters: Any = None
    ) -> CursorResult[*_Ts]: ...

    @overload
    async def execute(
        self, statement: Executable, parameters: Any = None
    ) -> CursorResult[Any]: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        return await self._worker.call(lambda c: c.execute(statement, parameters))

    async def stream(self, statement: Executable, parameters: Any = None) -> _Stream:
        def run(c: SyncConnection) -> CursorResult[Any]:
            dbapi = c.connection.dbapi_connection
            dbapi.prefetch = False  # type: ignore[union-attr]
            try:
                return c.execute(statement, parameters)
            finally:
                dbapi.prefetch = True  # type: ignore[union-attr]

        return _Stream(self._worker, await self._worker.in_thread(run))

    async def exec_driver_sql(self, statement: str) -> CursorResult[Any]:
        return await self._worker.call(lambda c: c.exec_driver_sql(statement))

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._worker.in_thread(lambda c: fn(c, *args))

    async def commit(self) -> None:
        await self._worker.call(lambda c: c.commit())

    async def rollback(self) -> None:
        await self._worker.call(lambda c: c.rollback())


class SqliteDatabase:
    def __init__(self, engine: Engine, connections: int = CONNECTIONS) -> None:
        self.sync_engine = engine
        self._memory = engine.url.database in (None, "", ":memory:")
        self._readers = max(1, connections - 1)
        self._idle: tuple[asyncio.Queue[_Worker], asyncio.Queue[_Worker]] | None = None
        self._workers: list[_Worker] = []
        # Tasks with a block open: a block opened inside another (the same task) gets a
        # connection of its own at once instead of waiting for one the outer block may hold.
        self._holding: dict[asyncio.Task[Any] | None, int] = {}
        self._writes = 0
        self._checkpoints: set[asyncio.Task[None]] = set()

    @property
    def dialect(self) -> Dialect:
        return self.sync_engine.dialect

    @property
    def url(self) -> URL:
        return self.sync_engine.url

    def _queue(self, commit: bool) -> asyncio.Queue[_Worker]:
        """Idle connections: one for the writing blocks, the rest for the reading ones.

        SQLite lets one connection write at a time; writers of the same process queued in
        its busy handler sleep in growing steps (up to 100 ms) however soon the lock is free,
        so they queue here instead, on one connection, and never meet each other's lock.
        """
        if self._idle is None:
            writing: asyncio.Queue[_Worker] = asyncio.Queue()
            reading = writing if self._memory else asyncio.Queue()
            self._workers.append(_Worker(self.sync_engine, "sqlite-writer"))
            writing.put_nowait(self._workers[-1])
            for n in range(0 if self._memory else self._readers):
                self._workers.append(_Worker(self.sync_engine, f"sqlite-reader-{n}"))
                reading.put_nowait(self._workers[-1])
            self._idle = (reading, writing)
        return self._idle[commit]

    @asynccontextmanager
    async def _block(self, commit: bool) -> AsyncIterator[SqliteConnection]:
        task = asyncio.current_task()
        nested = task in self._holding
        queue = self._queue(commit)
        if nested:
            worker = _Worker(self.sync_engine, "sqlite-nested", inline=False)
        else:
            worker = await queue.get()
            await worker.end(commit=False)  # a block cancelled mid-way may have left one open
        self._holding[task] = self._holding.get(task, 0) + 1
        try:
            yield SqliteConnection(worker)
        except BaseException:
            await worker.end(commit=False)
            raise
        else:
            await worker.end(commit=commit)
            if commit and not nested:
                self._wrote()
        finally:
            if self._holding[task] == 1:
                del self._holding[task]
            else:
                self._holding[task] -= 1
            if nested:
                await worker.close()
            else:
                queue.put_nowait(worker)

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % CHECKPOINT_EVERY == 0 and not self._checkpoints:
            task = asyncio.create_task(self.checkpoint())
            self._checkpoints.add(task)
            task.add_done_callback(self._checkpoints.discard)

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file, in the writer's thread."""

        def passive(conn: SyncConnection) -> None:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            conn.commit()

        queue = self._queue(commit=True)
        worker = await queue.get()
        try:
            await worker.in_thread(passive)
        finally:
            queue.put_nowait(worker)

    def connect(self) -> AbstractAsyncContextManager[Connection]:
        return self._block(commit=False)

    def begin(self) -> AbstractAsyncContextManager[Connection]:
        return self._block(commit=True)

    async def dispose(self) -> None:
        for task in list(self._checkpoints):
            await task
        idle = self._idle
        workers, self._workers, self._idle = self._workers, [], None
        if idle is not None:
            for worker in workers:
                await worker.close()
        self.sync_engine.dispose()


def sqlite_engine(url: URL, pragmas: Callable[[Any, Any], None]) -> Engine:
    engine = sa.create_engine(
        url.set(drivername="sqlite"),
        poolclass=NullPool,  # each worker keeps its one connection open
        connect_args={"timeout": 30, "check_same_thread": False, "factory": _SqliteConnection},
    )
    sa.event.listen(engine, "connect", pragmas)
    return engine
