"""/feeds: the editors' desk for the sites' feeds — the same FeedService as
`python -m bot feeds`, with buttons to pause, route and remove a feed.

A feed is added by its link: sent after /feeds or after «➕ Добавить ленту», it is fetched
once, and two questions by buttons follow (what it carries, and whether new entries go
through the queue); nothing is stored before the second answer. The typed
`/feeds add URL material|case|news [auto]` still works.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot, F, Router
from aiogram.filters import BaseFilter, Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, MessageEntity

from bot import texts
from bot.config import Settings
from bot.content.digest import BLOCK_SEPARATOR, pack_blocks
from bot.content.feeds import Feed, link_in_text
from bot.content.formatting import Text, as_list
from bot.content.ids import is_number, parse_id
from bot.content.models import MessagePart
from bot.handlers.common import show
from bot.services.container import Services
from bot.services.feeds import FeedCommandError, FeedService, feed_added_text, feed_removed_text
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.render import as_kwargs

# Telegram allows 100 buttons under a message; a district has far fewer feeds. Beyond this,
# a feed is opened by its number: /feeds 7.
DESK_BUTTONS = 50


def _label(feed: Feed) -> str:
    return feed.title or urlsplit(feed.url).netloc or feed.url


def _entry(feed: Feed, waiting: int, settings: Settings) -> Text:
    state = texts.feed_desk_state(
        last_fetch_at=feed.last_fetch_at,
        error_count=feed.error_count,
        last_error=feed.last_error,
        waiting=waiting,
        enabled=feed.enabled,
        tz=settings.tz,
    )
    return texts.feed_desk_entry(
        feed.id, feed.kind, feed.auto_approve, feed.url, feed.title, state
    )


async def _desk(
    service: FeedService, settings: Settings
) -> tuple[list[Text], InlineKeyboardMarkup | None]:
    feeds = await service.list_feeds()
    waiting = await service.waiting_counts()
    entries = [
        texts.feed_desk_line(
            feed.id,
            _label(feed),
            feed.kind,
            feed.auto_approve,
            last_fetch_at=feed.last_fetch_at,
            error_count=feed.error_count,
            waiting=waiting.get(feed.id, 0),
            enabled=feed.enabled,
            tz=settings.tz,
        )
        for feed in feeds
    ]
    blocks = texts.feeds_desk(entries)
    markup = kb.feeds_desk([(feed.id, _label(feed)) for feed in feeds[:DESK_BUTTONS]])
    return blocks, markup


def _pack(blocks: list[Text]) -> list[MessagePart]:
    return pack_blocks([texts.message_part(block) for block in blocks])


async def _send(
    bot: Bot, chat_id: int, parts: list[MessagePart], markup: InlineKeyboardMarkup | None
) -> None:
    """The parts in turn; the buttons under the last."""
    for number, part in enumerate(parts, 1):
        await bot.send_message(
            chat_id,
            part.text,
            entities=[MessageEntity.model_validate(e) for e in part.entities] or None,
            reply_markup=markup if number == len(parts) else None,
        )


async def _card(service: FeedService, settings: Settings, feed: Feed) -> Text:
    waiting = (await service.waiting_counts()).get(feed.id, 0)
    return _entry(feed, waiting, settings)


class FeedAdd(StatesGroup):
    link = State()  # «➕ Добавить ленту» pressed: waiting for the link
    kind = State()  # the link was a feed: what does it carry?
    route = State()  # through the queue, or straight to the digest?


# The dialog's data, under one key of the chat's FSM data: desk_at (when /feeds was shown,
# a Unix time), then once a link was checked token (the link message's id), url, title, kind.
ADD = "feed_add"


async def _adding(state: FSMContext) -> dict[str, Any]:
    data = (await state.get_data()).get(ADD)
    return data if isinstance(data, dict) else {}


# A link sent this soon after /feeds is a feed to add.
DESK_LINK_WINDOW = timedelta(hours=1)


async def feeds_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    words = (command.args or "").split()
    if not words:
        blocks, markup = await _desk(services.feeds, settings)
        await _send(bot, message.chat.id, _pack(blocks), markup)
        if (await state.get_state() or "").startswith(f"{FeedAdd.__name__}:"):
            await state.set_state(None)  # the desk again: a feed half-added starts over
        await state.update_data({ADD: {"desk_at": time.time()}})
        return
    action = words[0].lower()
    if action in ("add", "добавить"):
        await _add(message, words[1:], services.feeds)
        return
    if action in ("remove", "удалить") and len(words) == 2:
        await _ask_remove(message, words[1], services.feeds)
        return
    if len(words) == 1 and is_number(action.lstrip("№")):
        feed = await _find(message, action.lstrip("№"), services.feeds)
        if feed is None:
            return
        card = await _card(services.feeds, settings, feed)
        await message.answer(
            **as_kwargs(card), reply_markup=kb.feed_card(feed.id, feed.enabled, feed.auto_approve)
        )
        return
    await message.answer(texts.FEEDS_DESK_USAGE)


async def _find(message: Message, number: str, service: FeedService) -> Feed | None:
    """The feed of a typed number, or None after saying there is none."""
    feed_id = parse_id(number)
    try:
        if feed_id is not None:
            return await service.get_feed(feed_id)
    except FeedCommandError:
        pass
    await message.answer(texts.FEED_DESK_NOT_FOUND.format(id=number[:20]))
    return None


async def _add(message: Message, args: list[str], service: FeedService) -> None:
    if len(args) not in (2, 3) or (len(args) == 3 and args[2].lower() != "auto"):
        await message.answer(texts.FEEDS_DESK_USAGE)
        return
    try:
        feed = await service.add_feed(args[0], args[1], auto_approve=len(args) == 3)
    except FeedCommandError as exc:
        await message.answer(str(exc))
        return
    await message.answer(
        feed_added_text(feed),
        reply_markup=kb.feed_card(feed.id, feed.enabled, feed.auto_approve),
    )


async def _ask_remove(message: Message, arg: str, service: FeedService) -> None:
    arg = arg.lstrip("№")
    if not is_number(arg):
        await message.answer(texts.FEED_DESK_BAD_ID)
        return
    feed = await _find(message, arg, service)
    if feed is None:
        return
    await message.answer(
        texts.FEED_DESK_REMOVE_CONFIRM.format(id=feed.id, url=feed.url),
        reply_markup=kb.feed_remove_confirm(feed.id),
    )


DONE = {
    cb.FeedAction.PAUSE: texts.FEED_DESK_PAUSED_DONE,
    cb.FeedAction.RESUME: texts.FEED_DESK_RESUMED_DONE,
    cb.FeedAction.AUTO_ON: texts.FEED_DESK_AUTO_ON_DONE,
    cb.FeedAction.AUTO_OFF: texts.FEED_DESK_AUTO_OFF_DONE,
}


async def feed_button(
    callback: CallbackQuery,
    callback_data: cb.FeedDesk,
    bot: Bot,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    action, feed_id = callback_data.action, callback_data.feed_id
    if action is cb.FeedAction.ADD:
        await callback.answer()
        await state.set_state(FeedAdd.link)
        await state.update_data({ADD: {}})
        await bot.send_message(
            callback.from_user.id,
            texts.FEED_ADD_PROMPT,
            reply_markup=kb.word_prompt(texts.FEED_ADD_PLACEHOLDER),
        )
        return
    if action is cb.FeedAction.LIST:
        await callback.answer()
        blocks, markup = await _desk(services.feeds, settings)
        parts = _pack(blocks)
        if len(parts) == 1:
            await show(callback, as_list(*blocks, sep=BLOCK_SEPARATOR), markup)
        else:
            await _send(bot, callback.from_user.id, parts, markup)
        return
    try:
        if action is cb.FeedAction.REMOVE_YES:
            removed = await services.feeds.remove_feed(feed_id)
            await callback.answer()
            await show(
                callback,
                feed_removed_text(removed),
                kb.feed_back(),
            )
            return
        if action in (cb.FeedAction.PAUSE, cb.FeedAction.RESUME):
            feed = await services.feeds.set_enabled(feed_id, action is cb.FeedAction.RESUME)
        elif action in (cb.FeedAction.AUTO_ON, cb.FeedAction.AUTO_OFF):
            feed = await services.feeds.set_auto_approve(feed_id, action is cb.FeedAction.AUTO_ON)
        else:
            feed = await services.feeds.get_feed(feed_id)
    except FeedCommandError:
        await callback.answer(texts.FEED_DESK_NOT_FOUND.format(id=feed_id), show_alert=True)
        return
    if action is cb.FeedAction.REMOVE:
        await callback.answer()
        await show(
            callback,
            texts.FEED_DESK_REMOVE_CONFIRM.format(id=feed.id, url=feed.url),
            kb.feed_remove_confirm(feed.id),
        )
        return
    await callback.answer(DONE.get(action))
    card = await _card(services.feeds, settings, feed)
    await show(
        callback,
        card,
        kb.feed_card(feed.id, feed.enabled, feed.auto_approve),
    )


# --- adding a feed by its link -----------------------------------------------------------------


class DeskLink(BaseFilter):
    """A lone link with no dialog open, sent soon after /feeds: a feed to add. No state is
    set by /feeds itself, so a plan file or words sent after it reach their own handlers."""

    async def __call__(self, message: Message, state: FSMContext) -> bool:
        if link_in_text(message.text) is None:
            return False
        shown = (await _adding(state)).get("desk_at")
        if not isinstance(shown, int | float):
            return False
        return 0 <= time.time() - shown <= DESK_LINK_WINDOW.total_seconds()


async def link_sent(
    message: Message, state: FSMContext, settings: Settings, services: Services
) -> None:
    """A link while adding a feed: fetch it once, then ask what it carries."""
    url = link_in_text(message.text)
    if url is None:
        await _not_a_link(message, state)
        return
    try:
        probe = await services.feeds.probe(url)
    except FeedCommandError as exc:
        # Nothing stored, and the dialog stays where it was: the next link is taken too.
        await message.answer(str(exc))
        return
    token = message.message_id
    await state.set_state(FeedAdd.kind)
    await state.update_data({ADD: {"token": token, "url": probe.url, "title": probe.title}})
    await message.answer(
        texts.feed_add_found(
            probe.title,
            probe.entries,
            probe.latest,
            probe.url if probe.moved else None,
            settings.tz,
        ),
        reply_markup=kb.feed_add_kinds(token),
    )


async def _not_a_link(message: Message, state: FSMContext) -> None:
    if await state.get_state() == FeedAdd.link.state:
        await message.answer(texts.FEED_ADD_NOT_LINK)
    else:
        await message.answer(texts.FEED_ADD_CHOOSE)


async def _pressed(
    callback: CallbackQuery, state: FSMContext, step: State, token: int
) -> dict[str, Any] | None:
    """The dialog's data if this press answers its current question, else None after
    saying the button is out of date (nothing changes)."""
    data = await _adding(state)
    if await state.get_state() != step.state or data.get("token") != token or not data.get("url"):
        await callback.answer(texts.FEED_ADD_STALE, show_alert=True)
        return None
    return data


async def kind_chosen(
    callback: CallbackQuery, callback_data: cb.FeedAddKind, state: FSMContext
) -> None:
    data = await _pressed(callback, state, FeedAdd.kind, callback_data.token)
    if data is None:
        return
    await state.set_state(FeedAdd.route)
    await state.update_data({ADD: {**data, "kind": callback_data.kind.value}})
    await callback.answer()
    await show(
        callback,
        Text(texts.feed_add_route(data.get("title") or "", callback_data.kind)),
        kb.feed_add_routes(callback_data.token),
    )


async def route_chosen(
    callback: CallbackQuery,
    callback_data: cb.FeedAddRoute,
    state: FSMContext,
    services: Services,
) -> None:
    data = await _pressed(callback, state, FeedAdd.route, callback_data.token)
    if data is None:
        return
    # The dialog ends here whatever happens: a second press finds nothing to add.
    await state.set_state(None)
    await state.update_data({ADD: None})
    try:
        feed = await services.feeds.add_feed(
            data["url"],
            data.get("kind") or "",
            auto_approve=callback_data.auto,
            title=data.get("title") or "",
        )
    except FeedCommandError as exc:  # added meanwhile (another editor), or a bad kind
        await callback.answer()
        await show(callback, Text(str(exc)), kb.feed_back())
        return
    await callback.answer()
    await show(
        callback,
        Text(texts.feed_add_done(feed.id, feed.title, feed.kind, feed.auto_approve, feed.url)),
        kb.feed_card(feed.id, feed.enabled, feed.auto_approve),
    )


def build_router() -> Router:
    router = Router(name="feeds-desk")
    router.message.register(feeds_command, Command("feeds"))
    router.callback_query.register(feed_button, cb.FeedDesk.filter())
    adding = StateFilter(FeedAdd.link, FeedAdd.kind, FeedAdd.route)
    router.message.register(link_sent, adding, F.text, ~F.text.startswith("/"))
    router.message.register(link_sent, StateFilter(None), F.text, DeskLink())
    router.callback_query.register(kind_chosen, cb.FeedAddKind.filter())
    router.callback_query.register(route_chosen, cb.FeedAddRoute.filter())
    return router
