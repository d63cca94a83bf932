from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.services.timetable import daily_slot, missed_fire, timetable, weekly_slot
from bot.storage.backup import backup_sqlite
from tests.support.databases import sqlite_url
from tests.support.harness import make_settings

MSK = ZoneInfo("Europe/Moscow")


def test_slots_name_the_week_and_the_day() -> None:
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=MSK)
    assert weekly_slot(monday) == "digest:weekly:2026-W48"
    assert weekly_slot(monday + timedelta(days=6, hours=14)) == "digest:weekly:2026-W48"
    assert weekly_slot(datetime(2027, 1, 1, 9, 0, tzinfo=MSK)) == "digest:weekly:2026-W53"
    assert daily_slot(datetime(2026, 11, 27, 8, 30, tzinfo=MSK)) == "digest:daily:2026-11-27"


def test_a_run_missed_while_down_is_caught_up_within_grace() -> None:
    weekly = CronTrigger.from_crontab("0 9 * * mon", timezone=MSK)
    at_noon = datetime(2026, 11, 23, 12, 0, tzinfo=MSK)
    assert missed_fire(weekly, at_noon, timedelta(hours=6)) == datetime(
        2026, 11, 23, 9, 0, tzinfo=MSK
    )
    # Too late: by evening the morning's digest is not sent any more.
    assert missed_fire(weekly, at_noon + timedelta(hours=8), timedelta(hours=6)) is None
    assert (
        missed_fire(weekly, datetime(2026, 11, 24, 9, 0, tzinfo=MSK), timedelta(hours=6)) is None
    )


def test_timetable_follows_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, digest_weekly_cron="15 10 * * fri", database_url=sqlite_url(tmp_path)
    )
    entries = {entry.id: entry for entry in timetable(settings)}
    assert set(entries) == {
        "digest-weekly", "digest-daily", "reminders", "scheduled-posts", "feeds", "heartbeat",
        "backup", "purge", "retention",
    }  # fmt: skip
    fire = entries["digest-weekly"].trigger.get_next_fire_time(
        None, datetime(2026, 11, 23, 0, 0, tzinfo=MSK)
    )
    assert fire == datetime(2026, 11, 27, 10, 15, tzinfo=MSK)
    on_postgres = make_settings(tmp_path, database_url="postgresql+asyncpg://localhost/infozona")
    assert not {"backup", "purge"} & {entry.id for entry in timetable(on_postgres)}
    # Delivery retention runs nightly on either backend; 0 days keeps everything (no job).
    retention = entries["retention"].trigger.get_next_fire_time(
        None, datetime(2026, 11, 23, 0, 0, tzinfo=MSK)
    )
    assert retention == datetime(2026, 11, 23, 4, 15, tzinfo=MSK)
    assert "retention" in {entry.id for entry in timetable(on_postgres)}
    forever = make_settings(tmp_path, delivery_retention_days=0)
    assert "retention" not in {entry.id for entry in timetable(forever)}


async def test_backup_copies_the_database_and_keeps_the_last_ones(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "live.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.execute("INSERT INTO t VALUES ('Семинар')")
    folder = tmp_path / "backups"
    day = datetime(2026, 11, 1, 3, 30, tzinfo=MSK)
    for n in range(5):
        await backup_sqlite(f"sqlite+aiosqlite:///{db}", folder, 3, day + timedelta(days=n))
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == ["infozona-2026-11-03.db", "infozona-2026-11-04.db", "infozona-2026-11-05.db"]
    with sqlite3.connect(folder / kept[-1]) as copy:
        assert copy.execute("SELECT x FROM t").fetchall() == [("Семинар",)]
