from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.content.models import Frequency, OrgKind, Role, SubscriberStatus, Topic
from bot.storage.database import Database, SqliteDatabase
from bot.storage.db import create_engine, downgrade, migrate
from bot.storage.dialogs import DialogStateRepository
from bot.storage.schema import metadata
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/nested/dir/test.db")
    await migrate(engine)
    yield engine
    await engine.dispose()


async def test_sqlite_runs_in_wal_with_foreign_keys(engine: Database, tmp_path: Path) -> None:
    assert (tmp_path / "nested" / "dir" / "test.db").exists()
    async with engine.connect() as conn:
        assert (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar() == 1


async def test_migrations_match_the_schema_the_code_uses(engine: Database) -> None:
    def diff(connection: sa.Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_every_migration_goes_down_and_up_again(engine: Database) -> None:
    await downgrade(engine, "base")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    assert "subscribers" not in tables
    await migrate(engine)
    await migrate(engine)  # applying again is a no-op, as at every start
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    assert {"subscribers", "fsm_states"} <= set(tables)


async def test_register_never_creates_a_second_row(engine: Database) -> None:
    repo = SubscriberRepository(engine)
    first = await repo.register(42, name="Анна", username="anna", source="src_school12")
    again = await repo.register(42, name="Анна П.", username="anna", source="src_other")
    assert first.created and not again.created
    assert again.subscriber.source == "src_school12"
    assert first.subscriber.topics == frozenset(Topic)
    assert first.subscriber.frequency is Frequency.WEEKLY
    assert not first.subscriber.onboarded
    async with engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM subscribers"))).scalar() == 1


async def test_a_repeated_start_writes_the_profile_only_when_the_name_changed(
    engine: Database,
) -> None:
    repo = SubscriberRepository(engine)
    registered = (await repo.register(42, name="Анна", username="anna", source=None)).subscriber
    assert isinstance(engine, SqliteDatabase)
    written: list[str] = []

    @sa.event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE"):
            written.append(statement)

    await repo.touch_profile(registered, name="Анна", username="anna")
    assert written == []
    await repo.touch_profile(registered, name="Анна Петровна", username="anna")
    assert len(written) == 1
    again = await repo.get(42)
    assert again is not None and again.name == "Анна Петровна"


async def test_preferences_round_trip(engine: Database) -> None:
    repo = SubscriberRepository(engine)
    await repo.register(7, name="Ольга", username=None, source=None)
    await repo.set_role(7, Role.COORDINATOR)
    await repo.set_org_kind(7, OrgKind.SCHOOL)
    await repo.set_org_name(7, "ГБОУ СОШ № 123")
    await repo.set_topics(7, {Topic.EVENTS})
    await repo.set_frequency(7, Frequency.DAILY)
    await repo.mark_onboarded(7)
    subscriber = await repo.get(7)
    assert subscriber is not None
    assert (subscriber.role, subscriber.org_kind, subscriber.org_name) == (
        Role.COORDINATOR,
        OrgKind.SCHOOL,
        "ГБОУ СОШ № 123",
    )
    assert subscriber.topics == {Topic.EVENTS}
    assert subscriber.frequency is Frequency.DAILY
    assert subscriber.onboarded
    assert subscriber.created_at is not None and subscriber.created_at.tzinfo is not None
    assert await repo.count_by("status") == {SubscriberStatus.ACTIVE.value: 1}


async def test_updates_to_an_unknown_chat_change_nothing(engine: Database) -> None:
    repo = SubscriberRepository(engine)
    assert await repo.set_role(999, Role.HEAD) is None
    assert await repo.get(999) is None


async def test_forget_removes_the_row_and_dialog_state(engine: Database) -> None:
    repo = SubscriberRepository(engine)
    dialogs = DialogStateRepository(engine)
    await repo.register(5, name="Игорь", username="igor", source=None)
    await dialogs.put("fsm:5:5:default", 5, state="Profile:org_name", data={"flow": "o"})
    assert await repo.forget(5)
    await dialogs.forget_chat(5)
    assert await repo.get(5) is None
    assert await dialogs.get("fsm:5:5:default") == (None, {})
    assert not await repo.forget(5)


async def test_dialog_state_survives_a_new_engine(tmp_path: Path) -> None:
    url = scratch_url(tmp_path, "d")
    first = create_engine(url)
    await migrate(first)
    await DialogStateRepository(first).put("k", 1, state="S:x", data={"title": "Семинар"})
    await DialogStateRepository(first).put("k", 1, data={"title": "Семинар", "place": "ИМЦ"})
    await first.dispose()
    second = create_engine(url)
    assert await DialogStateRepository(second).get("k") == (
        "S:x",
        {"title": "Семинар", "place": "ИМЦ"},
    )
    await second.dispose()


async def test_moments_keep_their_instant_whatever_zone_they_came_in(engine: Database) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.storage.timetable import TimetableRepository

    moscow_nine = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    slots = TimetableRepository(engine)
    assert await slots.claim("digest:weekly:2026-W48", moscow_nine)
    stored = await slots.last_started("digest:weekly:")
    assert stored == moscow_nine
    assert stored is not None and stored.hour == 6  # 09:00 in Moscow is 06:00 UTC


async def test_a_slot_whose_run_died_can_be_taken_again_after_its_lease(
    engine: Database,
) -> None:
    """A worker killed mid-run leaves its slot unfinished: after the lease another worker
    runs it; a finished slot stays taken for good."""
    from datetime import UTC, datetime, timedelta

    from bot.storage.timetable import SLOT_LEASE, TimetableRepository

    start = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    slots = TimetableRepository(engine)
    assert await slots.claim("retention:2026-11-23", start)
    assert not await slots.claim("retention:2026-11-23", start + SLOT_LEASE / 2)
    assert await slots.claim("retention:2026-11-23", start + SLOT_LEASE + timedelta(seconds=1))
    assert not await slots.claim("retention:2026-11-23", start + SLOT_LEASE * 1.5)
    await slots.finish("retention:2026-11-23", "done", start + SLOT_LEASE * 1.5)
    assert not await slots.claim("retention:2026-11-23", start + SLOT_LEASE * 10)
