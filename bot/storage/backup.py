"""Nightly online copies of the SQLite database."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url


async def backup_sqlite(
    database_url: str,
    folder: Path,
    keep: int,
    when: datetime,
    *,
    copy_dir: Path | None = None,
) -> Path:
    """An online copy of the SQLite database (safe while the bot writes), one a day; copies
    older than `keep` days go (/privacy promises it: what /forget erased is gone from every
    copy after that).

    With `copy_dir` (another disk), the copy goes there too and the same `keep` days are kept
    there; if that fails, BackupCopyError says so after the first copy was made.
    """
    source = make_url(database_url).database
    if not source:
        raise ValueError("backup needs a file database")
    target = folder / f"infozona-{when:%Y-%m-%d}.db"
    oldest = when.date() - timedelta(days=keep - 1)

    def copy() -> None:
        if not Path(source).is_file():
            # sqlite3 would create an empty one, and the «backup» would be of nothing.
            raise NoDatabaseError(source)
        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
        partial.replace(target)
        _prune(folder, oldest)
        if copy_dir is not None:
            try:
                _second_copy(target, copy_dir)
                _prune(copy_dir, oldest)
            except OSError as exc:
                raise BackupCopyError(target, copy_dir, exc) from exc

    await asyncio.to_thread(copy)
    return target


class NoDatabaseError(FileNotFoundError):
    """There is no database file to back up (the bot never ran, or a wrong DATABASE_URL)."""


class BackupCopyError(OSError):
    """The backup was made, but its second copy (BACKUP_COPY_DIR) was not."""

    def __init__(self, backup: Path, copy_dir: Path, error: OSError) -> None:
        detail = error.strerror or type(error).__name__
        super().__init__(f"second copy of {backup.name} to {copy_dir} failed: {detail}")
        self.backup = backup
        self.copy_dir = copy_dir
        self.detail = detail


def _second_copy(backup: Path, copy_dir: Path) -> None:
    """`backup` into `copy_dir`, whole or not at all: written beside, synced, then renamed."""
    copy_dir.mkdir(parents=True, exist_ok=True)
    final = copy_dir / backup.name
    partial = final.with_suffix(".partial")
    try:
        shutil.copyfile(backup, partial)
        with partial.open("rb+") as file:
            os.fsync(file.fileno())
        partial.replace(final)
    finally:
        partial.unlink(missing_ok=True)


def _prune(folder: Path, oldest: date) -> None:
    for old in sorted(folder.glob("infozona-*.db")):
        try:
            made = date.fromisoformat(old.stem.removeprefix("infozona-"))
        except ValueError:
            continue  # not ours
        if made < oldest:
            old.unlink()


class NotABackupError(ValueError):
    """The file is not an SQLite database of this bot (or is damaged)."""


async def restore_sqlite(database_url: str, backup: Path) -> None:
    """Copy `backup` over the live database, page by page, with SQLite's own backup API (the
    live file's write-ahead log stays consistent). Nothing else may have the database open."""
    target = make_url(database_url).database
    if not target:
        raise ValueError("restore needs a file database")

    def copy() -> None:
        uri = f"{backup.resolve().as_uri()}?mode=ro"
        try:
            with closing(sqlite3.connect(uri, uri=True)) as src:
                ok = src.execute("PRAGMA quick_check").fetchone()
                tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master")}
                if ok != ("ok",) or "subscribers" not in tables:
                    raise NotABackupError(str(backup))
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                with closing(sqlite3.connect(target)) as dst:
                    src.backup(dst)
        except sqlite3.DatabaseError as exc:
            raise NotABackupError(str(backup)) from exc

    await asyncio.to_thread(copy)
