"""/forget in storage: everything of the person erased in one go, the «forgotten» list that
holds no one in clear, re-applied to a restored backup; backups kept for BACKUP_KEEP days."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.content.models import OrgKind, Role
from bot.services.privacy import PrivacyService, key_hash, load_key
from bot.storage.backup import backup_sqlite
from bot.storage.database import Database
from bot.storage.db import create_engine, downgrade, migrate
from bot.storage.dialogs import DialogStateRepository
from bot.storage.editors import AuditRepository
from bot.storage.questions import QuestionRepository
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url

CHAT = 4815162342
EDITOR = 9000


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "p"))
    await migrate(engine)
    yield engine
    await engine.dispose()


async def rows(engine: Database, table: str) -> list[tuple[object, ...]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(sa.text(f'SELECT * FROM "{table}"'))]


async def test_forget_erases_questions_refusals_and_dialogs_and_lists_only_a_keyed_hash(
    engine: Database, tmp_path: Path
) -> None:
    subscribers = SubscriberRepository(engine)
    questions = QuestionRepository(engine)
    audit = AuditRepository(engine)
    await subscribers.register(CHAT, name="Евлампия", username="evl", source=None)
    await subscribers.set_org_name(CHAT, "Дом творчества Радуга")
    asked = await questions.add(
        CHAT, "Как попасть на семинар?", Role.METHODIST, OrgKind.EXTRA, "Дом творчества Радуга"
    )
    await questions.answer(asked.id, "Евлампия Петровна, запишитесь на сайте", EDITOR)
    await audit.record(CHAT, "qa1", allowed=False, details="qa1:1")
    await audit.record(EDITOR, "/answer", allowed=True, details="qa1:1")
    await DialogStateRepository(engine).put("fsm:x", CHAT, state="Ask:writing", data={})

    key_file = tmp_path / "keys" / "forget.key"
    privacy = PrivacyService(engine, key_file)
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert await privacy.forget(CHAT, at)

    question = await questions.get(asked.id)
    assert question is not None
    # The editors' record: number, date, who answered when. Nothing of the asker, nor the answer.
    assert (question.chat_id, question.text, question.asker_org_name) == (None, "", None)
    assert (question.asker_role, question.asker_org_kind, question.answer) == (None, None, None)
    assert question.answered_by == EDITOR and question.created_at is not None
    assert [(e.actor_id, e.allowed) for e in await audit.recent()] == [(EDITOR, True)]
    assert await rows(engine, "fsm_states") == []
    assert await subscribers.get(CHAT) is None

    [(listed, listed_at)] = await rows(engine, "forgotten")
    assert str(CHAT) not in str(listed)
    assert listed != hashlib.sha256(str(CHAT).encode()).hexdigest()  # not guessable unkeyed
    assert listed == key_hash(load_key(key_file), CHAT)
    assert key_file.stat().st_mode & 0o077 == 0  # the key: the bot's user only
    assert listed_at is not None
    assert not await privacy.forget(CHAT)  # nothing left; the list isn't touched
    assert len(await rows(engine, "forgotten")) == 1


async def test_reapply_erases_those_back_from_a_backup_but_not_who_came_back_later(
    engine: Database, tmp_path: Path
) -> None:
    subscribers = SubscriberRepository(engine)
    privacy = PrivacyService(engine, tmp_path / "forget.key")
    for chat_id in (1, 2, 3):
        await subscribers.register(chat_id, name=f"u{chat_id}", username=None, source=None)
    later = datetime.now(UTC) + timedelta(minutes=1)
    key = load_key(tmp_path / "forget.key")
    # As if a backup made before their /forget had been restored: on the list, rows back.
    await privacy.remember({key_hash(key, 1): later, key_hash(key, 2): later - timedelta(days=1)})
    await QuestionRepository(engine).add(1, "Вопрос из копии", None, None, None)

    assert await privacy.reapply() == 1
    assert await subscribers.get(1) is None
    [question] = await rows(engine, "questions")
    assert "Вопрос из копии" not in str(question)
    # 2 subscribed after their forget: someone who came back, kept. 3 was never forgotten.
    assert await subscribers.get(2) is not None and await subscribers.get(3) is not None
    assert await privacy.reapply() == 0


async def test_migration_erases_questions_of_askers_forgotten_before_it(tmp_path: Path) -> None:
    engine = create_engine(scratch_url(tmp_path, "m"))
    try:
        await migrate(engine)
        await downgrade(engine, "0007")
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO questions (chat_id, text, asker_org_name, created_at) VALUES "
                    "(NULL, 'Старый вопрос', 'Школа № 1', '2026-11-01'),"
                    "(7, 'Живой вопрос', 'Школа № 2', '2026-11-01')"
                )
            )
        await migrate(engine)
        async with engine.connect() as conn:
            found = await conn.execute(
                sa.text("SELECT text, asker_org_name FROM questions ORDER BY id")
            )
            erased = [tuple(r) for r in found]
        assert erased == [
            ("", None),
            ("Живой вопрос", "Школа № 2"),
        ]
    finally:
        await engine.dispose()


async def test_backups_older_than_keep_days_go_even_when_not_made_daily(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
    folder = tmp_path / "backups"
    first = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
    for days in (0, 3, 9):  # the bot was down in between
        await backup_sqlite(f"sqlite+aiosqlite:///{db}", folder, 7, first + timedelta(days=days))
    assert sorted(p.name for p in folder.iterdir()) == [
        "infozona-2026-11-04.db",
        "infozona-2026-11-10.db",
    ]
