"""Operator commands run in-process: `python -m bot feeds …`, `schedule`, `status`, `backup`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.__main__ import main
from tests.support import FEED_FIXTURES, PLAN_2021

FIXTURES = FEED_FIXTURES


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .env, data/ lands in tmp
    for name in ("BOT_TOKEN", "ADMIN_IDS", "DATABASE_URL", "TELEGRAM_API_BASE", "BACKUP_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_feeds_add_list_remove(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["feeds", "add", "https://school12.example.ru/rss", "--kind", "news"]) == 0
    assert "Лента №1 добавлена" in capsys.readouterr().out
    assert main(["feeds", "add", "https://school12.example.ru/rss", "--kind", "case"]) == 1
    assert "уже добавлена (№1)" in capsys.readouterr().err
    assert main(["feeds", "list"]) == 0
    listing = capsys.readouterr().out
    assert "№1 · новости · через очередь" in listing and "ещё не проверялась" in listing
    assert main(["feeds", "remove", "1"]) == 0
    assert "удалена" in capsys.readouterr().out
    assert main(["feeds", "remove", "1"]) == 1
    assert "Ленты №1 нет" in capsys.readouterr().err
    assert main(["feeds", "add", "ftp://x", "--kind", "news"]) == 1
    assert "http:// или https://" in capsys.readouterr().err


def test_feeds_check_shows_what_would_be_taken_without_storing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["feeds", "check", str(FIXTURES / "rss20.xml"), "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert entries and {"title", "link", "published", "summary", "image"} <= set(entries[0])
    assert main(["feeds", "check", str(FIXTURES / "rss20.xml")]) == 0
    assert "Записей, которые бот взял бы из ленты" in capsys.readouterr().out
    assert main(["feeds", "list"]) == 0
    assert "Лент пока нет" in capsys.readouterr().out


def test_schedule_lists_every_job_with_its_next_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule"]) == 0
    out = capsys.readouterr().out
    for title in ("Еженедельный дайджест", "Ежедневный дайджест", "Напоминания", "Опрос лент",
                  "Резервная копия", "Свёртка доставок рассылок старше 90 дн."):  # fmt: skip
        assert title in out


def test_status_and_backup_on_a_fresh_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["status"]) == 1  # never run: no all-clear
    out = capsys.readouterr().out
    assert "Ожидают отправки: 0 сообщений" in out and "бот ещё не запускался" in out
    assert "Доставки старше 90 дн. сворачиваются в счётчики каждую ночь" in out
    assert main(["backup"]) == 0
    assert "Резервная копия сохранена" in capsys.readouterr().out
    assert list((tmp_path / "data" / "backups").glob("infozona-*.db"))


def test_restore_brings_a_backup_back_and_refuses_what_is_not_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import asyncio
    import sqlite3
    from datetime import UTC, datetime

    from bot.config import load_settings
    from bot.services.privacy import PrivacyService
    from bot.storage.db import create_engine
    from bot.storage.instance import InstanceLock

    assert main(["restore", "nowhere.db"]) == 1
    assert "Нет такого файла: nowhere.db" in capsys.readouterr().err
    (tmp_path / "notes.db").write_text("не база")
    assert main(["restore", "notes.db"]) == 1
    assert "не резервная копия базы «Инфозоны»" in capsys.readouterr().err

    assert main(["backup"]) == 0
    [backup] = (tmp_path / "data" / "backups").glob("infozona-*.db")
    with sqlite3.connect(backup) as copy:  # someone who subscribed before the copy
        copy.execute(
            "INSERT INTO subscribers (chat_id, name, topics, created_at, updated_at)"
            " VALUES (77, 'Евлампия', '', '2026-11-01', '2026-11-01')"
        )
    copy.close()
    settings = load_settings(_env_file=None)

    async def forget_after_the_copy() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql(
                    "INSERT INTO subscribers (chat_id, name, topics, created_at, updated_at)"
                    " VALUES (77, 'Евлампия', '', '2026-11-01', '2026-11-01')"
                )
            assert await PrivacyService(engine, settings.forget_key_path()).forget(77)
        finally:
            await engine.dispose()

    asyncio.run(forget_after_the_copy())
    # Not while the bot runs on that database.
    running = InstanceLock(tmp_path / "data" / "infozona.db.lock")
    running.acquire("python -m bot run", datetime.now(UTC))
    with pytest.raises(SystemExit) as refused:
        main(["restore", str(backup)])
    assert refused.value.code == 2
    assert "занята" in capsys.readouterr().err
    running.release()

    assert main(["restore", str(backup)]) == 0
    out = capsys.readouterr().out
    assert "База восстановлена" in out and "Снова удалены" in out and "1 подписчик" in out
    with sqlite3.connect(tmp_path / "data" / "infozona.db") as live:
        assert live.execute("SELECT count(*) FROM subscribers").fetchone() == (0,)
    live.close()


def test_digest_preview_prints_what_such_a_subscriber_would_get(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from bot.content.models import Item, ItemKind, ItemStatus, OrgKind
    from bot.storage.db import create_engine, migrate
    from bot.storage.items import ItemRepository

    async def seed() -> None:
        engine = create_engine("sqlite+aiosqlite:///data/infozona.db")
        await migrate(engine)
        items = ItemRepository(engine)
        now = datetime.now(UTC)
        await items.add(
            Item(0, ItemKind.MATERIAL, "Рекомендации для детских садов",
                 status=ItemStatus.APPROVED, approved_at=now - timedelta(days=1),
                 audience_orgs=frozenset({OrgKind.KINDERGARTEN}))
        )  # fmt: skip
        await items.add(
            Item(0, ItemKind.EVENT, "Экспертный совет", status=ItemStatus.APPROVED,
                 starts_at=now + timedelta(days=3))
        )  # fmt: skip
        await engine.dispose()

    asyncio.run(seed())
    assert main(["digest-preview", "--role", "preschool", "--org", "kindergarten"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Дайджест «Инфозоны»")
    assert "Рекомендации для детских садов" in out and "Экспертный совет" in out
    # The buttons the digest carries, as the subscriber will see them.
    assert "[⏰ Напомнить: Экспертный совет]\n[⚙️ Настройки] [⏸ Пауза]" in out
    assert (
        main(["digest-preview", "--role", "teacher", "--org", "school", "--topics", "cases"]) == 0
    )
    assert "дайджест пуст" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["digest-preview", "--role", "teacher", "--org", "school", "--topics", "bogus"])
    assert "неизвестная тема «bogus»" in capsys.readouterr().err


def test_ask_answers_like_the_bot_and_explains_itself_in_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = PLAN_2021
    assert main(["import-plan", str(plan)]) == 0
    capsys.readouterr()
    question = ["ask", "что в марте для координаторов", "--today", "2022-02-10"]
    assert main(question) == 0
    out = capsys.readouterr().out
    assert out.startswith("📅 Мероприятия в марте для координаторов")
    assert "Информационно-методические совещания и семинары" in out
    assert main([*question, "--role", "head", "--org", "school", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"] == {
        "start": "2022-03-01", "end": "2022-03-31", "roles": ["coordinator"], "org_kinds": [],
        "topics": [], "label": "Мероприятия в марте для координаторов",
    }  # fmt: skip
    titles = [item["title"] for item in data["items"]]
    assert titles[0].startswith("Информационно-методические совещания")  # March, named
    assert main(["ask", "спасибо"]) == 1
    assert "не похоже на вопрос" in capsys.readouterr().err


def test_an_unexpected_error_is_one_russian_line_without_the_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any exception escaping a command goes through the log's redactor, not Python's own
    traceback printer (which would show a token inside a URL in clear)."""
    token = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ac"
    monkeypatch.setenv("BOT_TOKEN", token)

    async def broken(*_: object) -> None:
        raise RuntimeError(f"GET https://api.telegram.org/bot{token}/getFile failed")

    monkeypatch.setattr("bot.__main__.migrate", broken)
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert "Команда остановлена из-за непредвиденной ошибки" in err
    assert "RuntimeError: GET https://api.telegram.org/bot***/getFile failed" in err
    assert token.split(":")[1] not in err


def test_backup_then_a_change_then_restore_and_the_change_is_gone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Before migrate there is nothing to copy: said so, no empty «backup» made.
    assert main(["backup"]) == 1
    assert "Базы data/infozona.db нет — копировать нечего" in capsys.readouterr().err
    assert not (tmp_path / "data" / "infozona.db").exists()
    assert main(["migrate"]) == 0
    assert main(["backup"]) == 0
    [backup] = (tmp_path / "data" / "backups").glob("infozona-*.db")
    assert main(["feeds", "add", "https://school7.example/rss", "--kind", "case"]) == 0
    capsys.readouterr()
    assert main(["restore", str(backup)]) == 0
    assert "База восстановлена" in capsys.readouterr().out
    assert main(["feeds", "list"]) == 0
    assert "Лент пока нет" in capsys.readouterr().out
