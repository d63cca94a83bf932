"""Nightly online copies of the SQLite database."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url


async def backup_sqlite(database_url: str, folder: Path, keep: int, when: datetime) -> Path:
    """An online copy of the SQLite database (safe while the bot writes); keeps the last `keep`."""
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
        for old in sorted(folder.glob("infozona-*.db"))[:-keep]:
            old.unlink()

    await asyncio.to_thread(copy)
    return target
