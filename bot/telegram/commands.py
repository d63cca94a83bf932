"""Command menus: texts' (command, description) pairs as aiogram BotCommands."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import BotCommand

from bot.texts import Command


def bot_commands(commands: Iterable[Command]) -> list[BotCommand]:
    return [BotCommand(command=c.command, description=c.description) for c in commands]
