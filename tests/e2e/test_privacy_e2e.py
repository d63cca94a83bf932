"""/forget with the world going on: nobody waits on it, and nothing of the person stays on disk."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from bot.services.timetable import Timetable
from tests.support.harness import Person, RunningBot

NAME = "Евлампия"
ORG = "Дом творчества Радуга"


async def onboard_named(person: Person, org_name: str) -> None:
    _, question = await person.say("/start", replies=2)
    _, step = await person.tap(question, "Методист")
    _, step = await person.tap(step, "Доп. образование")
    [topics] = await person.say(org_name)
    _, step = await person.tap(topics, "Готово")
    await person.tap(step, "Раз в неделю")


def raw_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("infozona.db*")))


class Writer(threading.Thread):
    """Another process writing all along, as a second tool on the database would: each write
    may wait two seconds for a lock, not the bot's thirty."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.stop = threading.Event()
        self.writes = 0
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set() or not self.writes:
            try:
                with closing(sqlite3.connect(self.database, timeout=2)) as conn, conn:
                    conn.execute(
                        "INSERT INTO runtime_status (key, value, updated_at) VALUES (?, '', ?)",
                        (f"test:{self.writes}", "2026-12-01 12:00:00"),
                    )
                self.writes += 1
            except sqlite3.OperationalError as exc:
                self.errors.append(str(exc))
                return


async def test_forget_with_a_reader_open_blocks_nobody_and_purges_later(
    running_bot: RunningBot, tmp_path: Path
) -> None:
    person = running_bot.person(701, NAME)
    await onboard_named(person, ORG)
    database = tmp_path / "infozona.db"

    # Someone reads the database in a long transaction (a backup, a report, a sqlite3 shell).
    reader = sqlite3.connect(database, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM subscribers").fetchone() == (1,)

    writer = Writer(database)
    writer.start()
    try:
        [confirm] = await person.say("/forget")
        _, done = await person.tap(confirm, "Удалить мои данные")
        assert "данные удалены" in done["text"]
    finally:
        writer.stop.set()
        await asyncio.to_thread(writer.join)
    assert writer.errors == [] and writer.writes >= 1
    assert await running_bot.subscribers.get(701) is None
    # While the reader still reads its old snapshot, the write-ahead log can't be emptied yet.
    privacy = running_bot.services.privacy
    assert privacy.purge_pending

    reader.rollback()
    reader.close()
    # The timetable's purge job, as it runs every minute.
    timetable = Timetable(running_bot.settings, running_bot.services, poll_feeds=False)
    assert "purged" in await timetable.purge(datetime.now(UTC))
    assert not privacy.purge_pending
    raw = raw_bytes(tmp_path)
    for secret in (NAME, ORG):
        assert secret.encode() not in raw, secret
