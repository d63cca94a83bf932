"""Nightly online copies of the SQLite database."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url


async def backup_sqlite(database_url: str, folder: Path, keep: int, when: datetime) -> Path:
    """An online copy of the SQLite database (safe while the bot writes), one a day; copies
    older than `keep` days go (/privacy promises it: what /forget erased is gone from every
    copy after that)."""
    source = make_url(database_url).database
    if not source:
        raise ValueError("backup needs a file database")
    target = folder / f"infozona-{when:%Y-%m-%d}.db"

    def copy() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
        partial.replace(target)
        oldest = when.date() - timedelta(days=keep - 1)
        for old in sorted(folder.glob("infozona-*.db")):
            try:
                made = date.fromisoformat(old.stem.removeprefix("infozona-"))
            except ValueError:
                continue  # not ours
            if made < oldest:
                old.unlink()

    await asyncio.to_thread(copy)
    return target


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
