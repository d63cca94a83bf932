"""One running bot per SQLite database: an OS file lock next to the database file.

Two bot processes on one database each claim and send the same deliveries (nearly every
message went out twice when it was tried), so `python -m bot run` takes an exclusive,
non-blocking `flock` on `<database>.lock` before anything else touches the database, and keeps
it while it runs. The OS releases the lock when the process ends in any way (kill -9 too), so a
stale lock file never blocks the next start; the file itself stays and names the last holder.

Only SQLite: on PostgreSQL several processes may share a database — one sends, the others wait
as standbys (storage/leadership.py), and deliveries are leased (storage/outbox.py).
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds the lock, as written in the lock file."""

    pid: int
    since: datetime
    command: str


class DatabaseBusyError(Exception):
    """Another process holds the database's lock; `holder` is None if it has not yet
    written its name (a start at the very same moment)."""

    def __init__(self, database: str, holder: Holder | None) -> None:
        super().__init__(database)
        self.database = database
        self.holder = holder


def lock_path(database_url: str) -> Path | None:
    """`<database file>.lock`, or None when there is nothing to lock (PostgreSQL, :memory:)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(f"{url.database}.lock")


class InstanceLock:
    """The lock, held from `acquire` until `release` or the end of the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, command: str, now: datetime) -> None:
        """Take the lock or raise DatabaseBusyError at once (never waits)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            database = str(self.path.with_suffix(""))
            raise DatabaseBusyError(database, read_holder(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {now.isoformat()} {command}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor releases the flock
            self._fd = None


def read_holder(path: Path) -> Holder | None:
    """The process named in the lock file (whether or not it still holds the lock)."""
    try:
        pid, since, command = path.read_text(encoding="utf-8").strip().split(" ", 2)
        return Holder(int(pid), datetime.fromisoformat(since), command)
    except (OSError, ValueError):
        return None
