"""Command line: `python -m bot [run|web|worker|migrate|status|…]`; only the commands that talk
to Telegram (run, web, worker, webhook) import aiogram."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bot import texts
from bot.config import Settings, SettingsError, load_settings
from bot.content.models import Item, OrgKind, Role, Topic
from bot.heap import freeze_after_imports
from bot.logs import redact, setup_logging
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.instance import DatabaseBusyError, InstanceLock, lock_path

log = logging.getLogger("bot")

EXIT_CONFIG = 2


def _secrets(settings: Settings) -> tuple[str, ...]:
    found = [s.get_secret_value() for s in (settings.bot_token, settings.webhook_secret) if s]
    return tuple(found)


def _print_error(settings: Settings, text: str) -> None:
    """An error for the operator's terminal, through the same redactor as the log: the
    messages of network errors carry the request URL, and with it `/bot<token>/`."""
    print(redact(text, _secrets(settings)), file=sys.stderr)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def _lock_database(settings: Settings, command: str) -> InstanceLock | None:
    """The single-instance lock of a SQLite database (None for PostgreSQL: there several
    workers share one, one active, storage/leadership.py). A held lock is one Russian line and
    exit 2."""
    path = lock_path(settings.database_url)
    if path is None:
        return None
    lock = InstanceLock(path)
    try:
        lock.acquire(f"python -m bot {command}", datetime.now(settings.tz))
    except DatabaseBusyError as busy:
        holder = busy.holder
        _print_error(
            settings,
            texts.database_busy(
                busy.database, str(path), command,
                holder.pid if holder else None,
                holder.since.astimezone(settings.tz) if holder else None,
                holder.command if holder else None,
            ),
        )  # fmt: skip
        raise SystemExit(EXIT_CONFIG) from None
    return lock


async def _with_engine(settings: Settings, work: Callable[..., Awaitable[None]]) -> None:
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        await work(settings, engine)
    finally:
        await engine.dispose()


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    async def nothing(*_: object) -> None:
        log.info("database is at the latest schema")

    # Not under a running bot (its code may expect the old schema), nor beside a second
    # migrate. The other commands only read or make small writes, and run while the bot runs.
    lock = _lock_database(settings, "migrate")
    try:
        asyncio.run(_with_engine(settings, nothing))
    finally:
        if lock is not None:
            lock.release()
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    # Only the commands that talk to Telegram import aiogram (seconds of CPU, ~200 MB).
    from bot.app import run_polling

    freeze_after_imports()  # aiogram's and pydantic's import-time objects, out of the GC's way
    return _serve_locked(settings, "run", run_polling)


def _serve_locked(
    settings: Settings, command: str, serve: Callable[[Settings, Database], Awaitable[None]]
) -> int:
    """`run` and `worker`: the token checked, the SQLite database locked before anything
    touches it (a second sender on it would send everything twice), then `serve` until
    stopped."""
    if settings.bot_token is None:
        print(texts.NO_TOKEN, file=sys.stderr)
        return EXIT_CONFIG
    lock = _lock_database(settings, command)
    try:
        return _telegram_errors(settings, lambda: asyncio.run(_with_engine(settings, serve)))
    finally:
        if lock is not None:
            lock.release()


def _telegram_errors(settings: Settings, work: Callable[[], None]) -> int:
    """Runs `work`; Telegram refusing the token or out of reach is one Russian line."""
    from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

    try:
        work()
    except TelegramUnauthorizedError:
        _print_error(settings, texts.TOKEN_REJECTED)
        return EXIT_CONFIG
    except TelegramNetworkError as exc:
        base = settings.telegram_api_base or "api.telegram.org"
        _print_error(settings, texts.API_UNREACHABLE.format(base=base, error=exc.message))
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    """A web worker: Telegram's webhook on WEB_HOST:WEB_PORT; no sender, no timetable."""
    from bot.app import run_web

    freeze_after_imports()
    if settings.bot_token is None:
        print(texts.NO_TOKEN, file=sys.stderr)
        return EXIT_CONFIG
    if settings.webhook_secret is None:
        print(texts.WEBHOOK_SECRET_MISSING, file=sys.stderr)
        return EXIT_CONFIG

    async def serve(settings: Settings, engine: Database) -> None:
        def serving(address: str) -> None:
            path = settings.webhook_path()
            print(texts.WEB_SERVING.format(address=address, path=path), flush=True)

        await run_web(settings, engine, serving=serving)

    # Several web workers share one database; the SQLite lock is the sender's (`worker`).
    return _telegram_errors(settings, lambda: asyncio.run(_with_engine(settings, serve)))


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """The sender and the timetable (digests, reminders, feeds, backups), no updates."""
    from bot.app import run_worker

    freeze_after_imports()
    return _serve_locked(settings, "worker", run_worker)


def cmd_webhook(settings: Settings, args: argparse.Namespace) -> int:
    """`webhook set|delete|info`: where Telegram posts updates (a deploy step)."""
    from bot.app import WebhookState, webhook_command

    if settings.bot_token is None:
        print(texts.NO_TOKEN, file=sys.stderr)
        return EXIT_CONFIG
    if args.action == "set" and not settings.webhook_url:
        print(texts.WEBHOOK_URL_MISSING, file=sys.stderr)
        return EXIT_CONFIG
    if args.action == "set" and settings.webhook_secret is None:
        print(texts.WEBHOOK_SECRET_MISSING, file=sys.stderr)
        return EXIT_CONFIG
    found: list[WebhookState] = []

    def work() -> None:
        found.append(asyncio.run(webhook_command(settings, args.action)))

    code = _telegram_errors(settings, work)
    if code or not found:
        return code
    state = found[0]
    # The URL and what Telegram says; never the secret (Telegram does not give it back).
    if args.action == "set":
        print(texts.WEBHOOK_SET.format(url=state.url))
    elif args.action == "delete":
        print(texts.WEBHOOK_DELETED)
    if args.action == "info":
        print(
            texts.WEBHOOK_INFO_URL.format(url=state.url) if state.url else texts.WEBHOOK_INFO_NONE
        )
    print(texts.WEBHOOK_INFO_PENDING.format(count=state.pending))
    if state.last_error:
        when = (
            texts.format_date(state.last_error_at.astimezone(settings.tz))
            if (state.last_error_at)
            else "?"
        )
        print(texts.WEBHOOK_INFO_ERROR.format(error=state.last_error, when=when))
    elif args.action == "info":
        print(texts.WEBHOOK_INFO_NO_ERROR)
    if args.action == "info" and state.allowed_updates:
        print(texts.WEBHOOK_INFO_UPDATES.format(types=", ".join(state.allowed_updates)))
    return 0


def cmd_schedule(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.timetable import timetable

    now = datetime.now(settings.tz)
    print(texts.SCHEDULE_TITLE.format(tz=settings.timezone))
    for entry in timetable(settings):
        fire = entry.trigger.get_next_fire_time(None, now)
        when = texts.format_date(fire) if fire else texts.SCHEDULE_NEVER
        print(f"  {entry.title}: {when}")
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    """What an operator checks when "the bot is quiet": heartbeats, backlog, campaigns."""
    from bot.services.status import StatusReport, status_report

    found: list[StatusReport] = []

    async def report(settings: Settings, engine: Database) -> None:
        found.append(await status_report(settings, engine, datetime.now(settings.tz)))

    asyncio.run(_with_engine(settings, report))
    lines, problems = found[0].lines, found[0].problems
    if args.json:
        print(json.dumps(found[0].as_json(), ensure_ascii=False, indent=2))
    else:
        print("\n".join([*lines, *problems] if problems else [*lines, texts.STATUS_OK]))
    return 1 if problems else 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from bot.storage.backup import BackupCopyError, NoDatabaseError, backup_sqlite

    if make_url(settings.database_url).get_backend_name() != "sqlite":
        print(texts.BACKUP_NOT_SQLITE, file=sys.stderr)
        return 1
    copy_dir = settings.backup_copy_path()
    try:
        path = asyncio.run(
            backup_sqlite(
                settings.database_url,
                Path(settings.backup_dir),
                settings.backup_keep,
                datetime.now(settings.tz),
                copy_dir=copy_dir,
            )
        )
    except NoDatabaseError as exc:
        print(texts.BACKUP_NO_DATABASE.format(path=exc), file=sys.stderr)
        return 1
    except BackupCopyError as exc:
        print(texts.BACKUP_DONE.format(path=exc.backup))
        print(
            texts.BACKUP_COPY_FAILED.format(folder=exc.copy_dir, error=exc.detail), file=sys.stderr
        )
        return 1
    print(texts.BACKUP_DONE.format(path=path))
    if copy_dir is not None:
        print(texts.BACKUP_COPY_DONE.format(path=copy_dir / path.name))
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.privacy import restore_backup
    from bot.storage.backup import NotABackupError

    if make_url(settings.database_url).get_backend_name() != "sqlite":
        print(texts.BACKUP_NOT_SQLITE, file=sys.stderr)
        return 1
    source = Path(args.backup)
    if not source.is_file():
        print(texts.RESTORE_MISSING.format(path=source), file=sys.stderr)
        return 1
    # Never under a running bot: it would go on with the old database's state in memory.
    lock = _lock_database(settings, "restore")
    try:
        erased = asyncio.run(
            restore_backup(settings.database_url, settings.forget_key_path(), source)
        )
    except NotABackupError:
        print(texts.RESTORE_NOT_A_BACKUP.format(path=source), file=sys.stderr)
        return 1
    finally:
        if lock is not None:
            lock.release()
    print(texts.restore_done(source, erased))
    return 0


def school_year_argument(text: str) -> tuple[int, int]:
    """«2026/2027», «2026-2027», «2026/27» or «2026» (the year it starts)."""
    match = re.fullmatch(r"\s*(\d{4})\s*(?:[/-]\s*(\d{2}|\d{4}))?\s*", text)
    if match:
        first, second = int(match[1]), match[2]
        follows = second is None or int(second) in (first + 1, (first + 1) % 100)
        if follows and 2000 <= first <= 2100:
            return first, first + 1
    raise argparse.ArgumentTypeError(texts.PLAN_SCHOOL_YEAR_ARGUMENT.format(value=text))


def calendar_year_argument(text: str) -> tuple[int, int]:
    """«2026»: a plan for the calendar year, January – December (the school year (2026, 2026))."""
    match = re.fullmatch(r"\s*(\d{4})\s*", text)
    if match and 2000 <= int(match[1]) <= 2100:
        return int(match[1]), int(match[1])
    raise argparse.ArgumentTypeError(texts.PLAN_YEAR_ARGUMENT.format(value=text))


def cmd_import_plan(settings: Settings, args: argparse.Namespace) -> int:
    from bot.content.plan import PlanFormatError, PlanProblem
    from bot.services.plan_import import import_plan
    from bot.services.plan_upload import (
        PLAN_FILE_MAX,
        PlanTooBigError,
        check_plan_size,
        read_plan,
    )
    from bot.storage.items import ItemRepository

    path = Path(args.file)
    if not path.is_file():
        print(texts.PLAN_FILE_MISSING.format(path=path), file=sys.stderr)
        return 1
    try:
        # The bot's limit, before reading: a 50 MB «plan» is no plan, and would take minutes.
        check_plan_size(path.stat().st_size)
        plan = read_plan(path.read_bytes(), args.school_year)
    except PlanTooBigError as exc:
        print(texts.plan_too_big(exc.size, PLAN_FILE_MAX), file=sys.stderr)
        return 1
    except PlanFormatError as exc:
        if exc.problem is PlanProblem.NO_SCHOOL_YEAR:
            print(texts.PLAN_NO_SCHOOL_YEAR_CLI, file=sys.stderr)
        else:
            print(texts.PLAN_PROBLEMS.get(exc.problem.value, str(exc)), file=sys.stderr)
        return 1

    async def store(settings: Settings, engine: Database) -> None:
        report = await import_plan(
            plan, ItemRepository(engine), settings.tz, datetime.now(settings.tz),
            dry_run=args.dry_run,
        )  # fmt: skip
        summary = texts.plan_report(
            report.new, report.updated, report.unchanged,
            [(u.shown_number, u.title, u.timing, u.reason.value) for u in report.unresolved],
        )  # fmt: skip
        if report.dry_run:
            summary += "\n" + texts.PLAN_DRY_RUN
        # With --json the data goes to stdout for tools, the human summary to stderr.
        print(summary, file=sys.stderr if args.json else sys.stdout)

    asyncio.run(_with_engine(settings, store))
    if args.json:
        print(json.dumps(plan.to_json(), ensure_ascii=False, indent=2))
    return 0


def cmd_feeds(settings: Settings, args: argparse.Namespace) -> int:
    """`feeds add|list|remove|check`: the same service editors will use from the bot."""
    from bot.services.feeds import (
        FeedCommandError,
        FeedService,
        feed_added_text,
        feed_removed_text,
        feeds_list_text,
    )

    output: list[str] = []

    async def work(settings: Settings, engine: Database) -> None:
        service = FeedService(engine, settings.feed_settings())
        if args.action == "add":
            feed = await service.add_feed(args.url, args.kind, auto_approve=args.auto_approve)
            output.append(feed_added_text(feed))
        elif args.action == "list":
            output.append(feeds_list_text(await service.list_feeds(), settings.tz))
        elif args.action == "remove":
            output.append(feed_removed_text(await service.remove_feed(args.id)))
        else:
            entries = await service.check_feed(args.source)
            if args.json:
                output.append(json.dumps(entries, ensure_ascii=False, indent=2, default=str))
            else:
                output.extend(texts.feed_check_line(entry) for entry in entries)
                output.append(texts.FEED_CHECK_TOTAL.format(count=len(entries)))

    try:
        asyncio.run(_with_engine(settings, work))
    except FeedCommandError as exc:
        print(exc, file=sys.stderr)
        return 1
    print("\n".join(output))
    return 0


def cmd_digest_preview(settings: Settings, args: argparse.Namespace) -> int:
    from bot.content.models import Frequency
    from bot.services.digests import preview_digest
    from bot.storage.items import ItemRepository

    parts: list[str] = []

    async def work(settings: Settings, engine: Database) -> None:
        found = await preview_digest(
            Role(args.role), OrgKind(args.org), args.topics or frozenset(Topic),
            Frequency(args.frequency), datetime.now(settings.tz),
            items=ItemRepository(engine), tz=settings.tz,
        )  # fmt: skip
        parts.extend(texts.digest_preview_text(part) for part in found)

    asyncio.run(_with_engine(settings, work))
    if not parts:
        print(texts.DIGEST_PREVIEW_EMPTY)
    for number, text in enumerate(parts, 1):
        if len(parts) > 1:
            print(texts.DIGEST_PREVIEW_PART.format(number=number, total=len(parts)))
        print(text)
    return 0


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    """The bot's answer to a "what's next" question, for an operator to try phrasings."""
    from bot.content.intents import Intent, read_text
    from bot.content.topics import SUBJECTS
    from bot.content.whatsnext import Answer, default_query, item_days
    from bot.services.browsing import find_answer
    from bot.storage.items import ItemRepository

    today = args.today or datetime.now(settings.tz).date()
    query = default_query(today)
    if args.text.strip():
        reading = read_text(args.text, today)
        if reading.intent is not Intent.NEXT or reading.query is None:
            print(texts.ASK_NOT_A_QUESTION, file=sys.stderr)
            return 1
        query = reading.query
    found: list[Answer] = []

    async def work(settings: Settings, engine: Database) -> None:
        role = Role(args.role) if args.role else None
        org = OrgKind(args.org) if args.org else None
        found.append(await find_answer(ItemRepository(engine), query, role, org, settings.tz))

    asyncio.run(_with_engine(settings, work))
    answer = found[0]
    if args.json:

        def entry(item: Item, kind: str) -> dict[str, object]:
            days = item_days(item, settings.tz)
            return {
                "id": item.id, "title": item.title, "kind": kind,
                "start": days[0].isoformat() if days else None,
                "end": days[1].isoformat() if days else None,
                "starts_at": item.starts_at.astimezone(settings.tz).isoformat()
                if item.starts_at else None,
                "timing": item.timing_text, "audience": item.audience_text, "place": item.place,
            }  # fmt: skip

        print(json.dumps({
            "query": {
                "start": query.start.isoformat(), "end": query.end.isoformat(),
                "roles": sorted(r.value for r in query.roles),
                "org_kinds": sorted(o.value for o in query.org_kinds),
                "topics": [SUBJECTS[n].key for n in query.topics],
                "label": query.label,
            },
            "items": [entry(i, "leading") for i in answer.leading]
            + [entry(i, "other" if answer.topical else "year-long") for i in answer.year_long],
            "shown": answer.shown,
        }, ensure_ascii=False, indent=2))  # fmt: skip
        return 0
    if not answer.main:
        print(texts.NEXT_EMPTY)
        return 0
    shown = list(enumerate(answer.main, 1))[: answer.shown]
    content = texts.short_answer(
        query.label, shown, len(answer.folded), settings.tz, answer.foreign,
        others=answer.topical,
    )  # fmt: skip
    print(content.render()[0])
    return 0


Handler = Callable[[Settings, argparse.Namespace], int]


def topics_arg(text: str) -> frozenset[Topic]:
    codes = [code.strip() for code in text.split(",") if code.strip()]
    unknown = [code for code in codes if code not in Topic._value2member_map_]
    if unknown:
        allowed = ", ".join(t.value for t in Topic)
        raise argparse.ArgumentTypeError(f"неизвестная тема «{unknown[0]}»; допустимо: {allowed}")
    return frozenset(Topic(code) for code in codes)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Бот «Инфозона»")
    sub = parser.add_subparsers(dest="command", metavar="КОМАНДА")
    handlers: dict[str, Handler] = {}

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        handlers[name] = handler
        return sub.add_parser(name, help=help_text, description=help_text)

    command("run", cmd_run, "запустить бота (long polling)")
    command(
        "web", cmd_web,
        "принимать обновления через webhook (WEB_HOST:WEB_PORT), без рассылки и расписания",
    )  # fmt: skip
    command("worker", cmd_worker, "рассылка и расписание (дайджесты, ленты), без обновлений")
    hook = command("webhook", cmd_webhook, "webhook у Telegram: установить, удалить, показать")
    hook.add_argument(
        "action", choices=["set", "delete", "info"],
        help="set — WEBHOOK_URL с WEBHOOK_SECRET, delete — убрать, info — что знает Telegram",
    )  # fmt: skip
    command("migrate", cmd_migrate, "применить миграции базы данных")
    command("schedule", cmd_schedule, "показать расписание и ближайшие запуски")
    status = command(
        "status", cmd_status, "состояние: последние опрос и отправка, очередь, рассылки, ленты"
    )
    status.add_argument(
        "--json", action="store_true", help="то же одним объектом JSON (для мониторинга)"
    )
    command("backup", cmd_backup, "сделать резервную копию базы SQLite сейчас")
    restore = command(
        "restore", cmd_restore,
        "восстановить базу SQLite из резервной копии (бот должен быть остановлен)",
    )  # fmt: skip
    restore.add_argument("backup", help="файл копии, например data/backups/infozona-2026-12-01.db")
    plan = command("import-plan", cmd_import_plan, "загрузить годовой план (.docx или .txt)")
    plan.add_argument("file", help="файл плана: .docx или .txt (UTF-8, UTF-16 или windows-1251)")
    year = plan.add_mutually_exclusive_group()
    year.add_argument(
        "--school-year",
        type=school_year_argument,
        metavar="2026/2027",
        help="учебный год плана, если его нет ни в заголовке, ни в сроках, например 2026/2027",
    )
    year.add_argument(
        "--year",
        type=calendar_year_argument,
        dest="school_year",
        metavar="2026",
        help="календарный год плана на год (январь – декабрь), например 2026",
    )
    plan.add_argument(
        "--dry-run", action="store_true", help="только показать, ничего не сохранять"
    )
    plan.add_argument("--json", action="store_true", help="вывести разобранный план в JSON")
    preview = command(
        "digest-preview", cmd_digest_preview, "показать дайджест, который получил бы подписчик"
    )
    preview.add_argument("--role", required=True, choices=[r.value for r in Role], help="роль")
    preview.add_argument(
        "--org", required=True, choices=[o.value for o in OrgKind], help="тип организации"
    )
    preview.add_argument(
        "--topics",
        type=topics_arg,
        default=frozenset(),
        help="темы через запятую (materials,events,cases); по умолчанию все",
    )
    preview.add_argument(
        "--frequency", default="weekly", choices=["weekly", "daily"], help="частота дайджеста"
    )
    ask = command("ask", cmd_ask, "ответ бота на вопрос «что дальше?» — для проверки формулировок")
    ask.add_argument(
        "text", help="вопрос, как его напишет человек: «что в марте для координаторов»"
    )
    ask.add_argument("--role", choices=[r.value for r in Role], help="роль спрашивающего")
    ask.add_argument("--org", choices=[o.value for o in OrgKind], help="тип его организации")
    ask.add_argument(
        "--today", type=date.fromisoformat, help="считать сегодняшним днём (ГГГГ-ММ-ДД)"
    )
    ask.add_argument("--json", action="store_true", help="понятый запрос и найденное в JSON")
    feeds = command("feeds", cmd_feeds, "ленты сайтов: добавить, список, удалить, проверить")
    actions = feeds.add_subparsers(dest="action", metavar="ДЕЙСТВИЕ", required=True)
    add = actions.add_parser("add", help="добавить ленту")
    add.add_argument("url", help="адрес RSS- или Atom-ленты")
    add.add_argument(
        "--kind", required=True, choices=["material", "case", "news"],
        help="что в ленте: material — материалы, case — опыт площадок, news — новости",
    )  # fmt: skip
    add.add_argument(
        "--auto-approve", action="store_true",
        help="новые записи сразу в дайджест, без очереди редактора",
    )  # fmt: skip
    actions.add_parser("list", help="список лент с состоянием")
    remove = actions.add_parser("remove", help="удалить ленту (записи остаются)")
    remove.add_argument("id", type=int, help="номер ленты из списка")
    check = actions.add_parser(
        "check", help="показать, что бот взял бы из ленты, ничего не сохраняя"
    )
    check.add_argument("source", help="адрес ленты или файл")
    check.add_argument("--json", action="store_true", help="вывести в JSON")
    return parser, handlers


def main(argv: list[str] | None = None, *, process: bool = False) -> int:
    """`process`: this is the whole process (`python -m bot`), not a call from a test."""
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    settings = _settings()
    setup_logging(settings.log_level, _secrets(settings))
    if process:
        freeze_after_imports()
    try:
        return handlers[args.command or "run"](settings, args)
    except Exception as exc:
        # Not Python's own traceback on stderr (it would print the token inside a URL): the
        # traceback goes to the log through the redactor, the operator gets one Russian line.
        log.critical("command failed: command=%s", args.command or "run", exc_info=True)
        _print_error(settings, texts.COMMAND_FAILED.format(error=f"{type(exc).__name__}: {exc}"))
        return 1


if __name__ == "__main__":
    sys.exit(main(process=True))
