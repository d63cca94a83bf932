"""The main menu: big buttons under the input field, each one doing what its command does.

A tap sends the button's words as a message; the filter below turns them into the command
(`CommandObject` with no words), and the command's own handler answers — the same function,
so a button can never drift from its command. Asked before the dialogs and free text: the words
of a button are never an organisation's name, a question to the IMC or a search.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import F, Router
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.filters import BaseFilter, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot import texts
from bot.handlers import browse, preferences, questions
from bot.handlers.preferences import known_command
from bot.telegram.fsm import WordPrompt

# A tap leaves a prompt that waited for words: she went elsewhere.
PROMPTS = frozenset({WordPrompt.search.state, questions.AskDialog.writing.state})


def _words(text: str) -> str:
    """A button's words as compared: no emoji or signs, lower case, ё as е."""
    return " ".join(re.findall(r"\w+", text.lower().replace("ё", "е")))


class MenuButton(BaseFilter):
    """The message is this button's words (tapped, or typed without the emoji)."""

    def __init__(self, label: str, command: str) -> None:
        self.words = _words(label)
        self.command = CommandObject(prefix="/", command=command)

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        if message.text is None or len(message.text) > 40 or _words(message.text) != self.words:
            return False
        return {"command": self.command}


def _tapped(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The command's handler, called with what it asks for, after closing a waiting prompt."""
    callable_object = CallableObject(callback=handler)

    async def tapped(message: Message, state: FSMContext, **data: Any) -> Any:
        if await state.get_state() in PROMPTS:
            await state.set_state(None)
        return await callable_object.call(message, state=state, **data)

    return tapped


async def search_words(message: Message, state: FSMContext, **data: Any) -> Any:
    """The answer to «Что найти?»: searched as `/search WORDS` would be."""
    await state.set_state(None)
    words = CommandObject(prefix="/", command="search", args=message.text)
    return await CallableObject(callback=browse.search_command).call(
        message, state=state, command=words, **data
    )


BUTTONS: tuple[tuple[str, str, Callable[..., Awaitable[Any]]], ...] = (
    (texts.MENU_NEXT, "next", browse.next_command),
    (texts.MENU_MATERIALS, "materials", browse.materials_command),
    (texts.MENU_CASES, "cases", browse.cases_command),
    (texts.MENU_SEARCH, "search", browse.search_command),
    (texts.MENU_ASK, "ask", questions.ask_command),
    (texts.MENU_SETTINGS, "settings", preferences.settings_command),
)


def build_router() -> Router:
    router = Router(name="menu")
    for label, command, handler in BUTTONS:
        router.message.register(_tapped(handler), F.text, MenuButton(label, command))
    router.message.register(
        search_words, StateFilter(WordPrompt.search), F.text, ~F.text.func(known_command)
    )
    return router
