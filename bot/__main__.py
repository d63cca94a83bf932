"""Command line: `python -m bot [run|migrate]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable

from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

from bot import texts
from bot.config import Settings, SettingsError, load_settings
from bot.logs import setup_logging
from bot.storage.db import create_engine, migrate

log = logging.getLogger("bot")

EXIT_CONFIG = 2


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


async def _with_engine(settings: Settings, work: Callable[..., Awaitable[None]]) -> None:
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        await work(settings, engine)
    finally:
        await engine.dispose()


def cmd_migrate(settings: Settings) -> int:
    async def nothing(*_: object) -> None:
        log.info("database is at the latest schema")

    asyncio.run(_with_engine(settings, nothing))
    return 0


def cmd_run(settings: Settings) -> int:
    from bot.app import run_polling

    if settings.bot_token is None:
        print(texts.NO_TOKEN, file=sys.stderr)
        return EXIT_CONFIG
    try:
        asyncio.run(_with_engine(settings, run_polling))
    except TelegramUnauthorizedError:
        print(texts.TOKEN_REJECTED, file=sys.stderr)
        return EXIT_CONFIG
    except TelegramNetworkError as exc:
        base = settings.telegram_api_base or "api.telegram.org"
        print(texts.API_UNREACHABLE.format(base=base, error=exc.message), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


COMMANDS: dict[str, tuple[Callable[[Settings], int], str]] = {
    "run": (cmd_run, "запустить бота (long polling)"),
    "migrate": (cmd_migrate, "применить миграции базы данных"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Бот «Инфозона»")
    sub = parser.add_subparsers(dest="command")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text)
    args = parser.parse_args(argv)
    settings = _settings()
    secrets = (settings.bot_token.get_secret_value(),) if settings.bot_token else ()
    setup_logging(settings.log_level, secrets)
    handler, _ = COMMANDS[args.command or "run"]
    return handler(settings)


if __name__ == "__main__":
    sys.exit(main())
