"""/forget with the world going on: nobody waits on it, and nothing of the person stays on disk."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.services.privacy import restore_backup
from bot.services.timetable import Timetable
from bot.storage.backup import backup_sqlite
from tests.support.databases import sqlite_url
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import Person, RunningBot, agree, bot_running


@pytest.fixture
async def running_bot(emu: BotAPIEmulator, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """On SQLite under either suite: /forget is proven in the database file's own bytes, its
    journal and its backups."""
    async with bot_running(emu, tmp_path, database_url=sqlite_url(tmp_path)) as running:
        yield running


NAME = "Евлампия"
ORG = "Дом творчества Радуга"


async def onboard_named(person: Person, org_name: str) -> None:
    question = await agree(person)
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


CHAT = 7654321
QUESTION = "Можно ли привезти на семинар свою методическую разработку?"


async def leftovers(running_bot: RunningBot) -> list[tuple[str, str]]:
    """(table, row) for every row anywhere that still tells something of the person."""
    found = []
    async with running_bot.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        for table in tables:
            for row in (await conn.execute(sa.text(f'SELECT * FROM "{table}"'))).all():
                flat = " ".join(str(value) for value in row)
                if any(secret in flat for secret in (str(CHAT), NAME, ORG, QUESTION)):
                    found.append((table, flat))
    return found


async def test_forget_erases_questions_and_audit_and_stays_forgotten_after_a_restore(
    running_bot: RunningBot, tmp_path: Path
) -> None:
    person = running_bot.person(CHAT, NAME)
    await onboard_named(person, ORG)
    [sent] = await person.say(f"/ask {QUESTION}")
    assert "Вопрос № 1 передан" in sent["text"]
    answer, _ = await person.tap_data(sent, "qa1:1", expect="answer")  # an editor's button
    assert "для редакторов" in answer.params["text"]
    backup = await backup_sqlite(
        running_bot.settings.database_url, tmp_path / "backups", 7, datetime.now(UTC)
    )
    assert {table for table, _ in await leftovers(running_bot)} >= {
        "subscribers", "questions", "audit_log",
    }  # fmt: skip

    [confirm] = await person.say("/forget")
    assert "вопросы" in confirm["text"]
    _, done = await person.tap(confirm, "Удалить мои данные")
    assert "данные удалены" in done["text"]
    assert await leftovers(running_bot) == []

    # The server is restored from last night's copy, made before the /forget.
    await running_bot.stop()
    await running_bot.engine.dispose()
    settings = running_bot.settings
    erased = await restore_backup(settings.database_url, settings.forget_key_path(), backup)
    assert erased == 1
    await running_bot.start()
    assert await running_bot.subscribers.get(CHAT) is None
    assert await leftovers(running_bot) == []
    raw = raw_bytes(tmp_path)
    for secret in (NAME, ORG, QUESTION):
        assert secret.encode() not in raw, secret
    [nothing] = await person.say("/forget")
    assert "ничего не хранится" in nothing["text"]


async def test_privacy_tells_how_long_backups_and_logs_are_kept(running_bot: RunningBot) -> None:
    [privacy] = await running_bot.person(703).say("/privacy")
    assert "Резервные копии базы хранятся 7 дней" in privacy["text"]
    assert "Журнал работы бота" in privacy["text"] and "30 дней" in privacy["text"]


async def test_the_bot_forgets_again_at_start_up(running_bot: RunningBot) -> None:
    person = running_bot.person(704, NAME)
    await onboard_named(person, ORG)
    [confirm] = await person.say("/forget")
    await person.tap(confirm, "Удалить мои данные")
    await running_bot.stop()
    # Their row is back, as if a backup had been copied over the database by hand.
    await running_bot.subscribers.register(704, name=NAME, username=None, source=None)
    async with running_bot.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "UPDATE subscribers SET created_at = '2026-01-01 00:00:00' WHERE chat_id = 704"
            )
        )
    await running_bot.start()
    assert await running_bot.subscribers.get(704) is None
