"""/new: an editor writes an announcement, material, event or case on the phone and publishes it
now, at a time, with the next digest, or keeps it as a draft.

The whole draft lives in the dialog's data (the SQL-backed FSM storage), so it survives a restart;
the item is written only when the editor confirms.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.config import Settings
from bot.content.cleaning import clean_name
from bot.content.links import telegram_url
from bot.content.models import Item, ItemKind, OrgKind, PublishMode, Role
from bot.content.when import parse_when
from bot.handlers.common import drop_keyboard, show
from bot.services.container import Services
from bot.services.posts import draft_item
from bot.services.publishing import post_parts
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.callbacks import AudienceAction, NewStep, WhenMode
from bot.telegram.transport import TelegramTransport

TEXT_LIMIT = 3500
TITLE_LIMIT = 300
FIELD_LIMIT = 300
SITE_TYPE_LIMIT = 64


DONE = {
    PublishMode.NOW: texts.NEW_PUBLISHED,
    PublishMode.AT: texts.NEW_SCHEDULED,
    PublishMode.DIGEST: texts.NEW_APPROVED,
    PublishMode.DRAFT: texts.NEW_DRAFTED,
}


class NewPost(StatesGroup):
    kind = State()
    text = State()
    starts_at = State()
    place = State()
    registration = State()
    organisation = State()
    site_type = State()
    audience = State()
    when = State()
    confirm = State()


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_post(text: str, entities: list[dict[str, Any]]) -> tuple[str, str, list[dict[str, Any]]]:
    """(title, body, body's entities): the first line is the title; the editor's formatting of
    the rest is kept, its offsets moved to the body's start (Telegram counts UTF-16 units)."""
    first, _, rest = text.partition("\n")
    body = rest.strip("\n")
    cut = _utf16(first) + 1 + (_utf16(rest) - _utf16(rest.lstrip("\n")))
    body_length = _utf16(body)
    moved: list[dict[str, Any]] = []
    for entity in entities:
        start = max(int(entity["offset"]), cut) - cut
        end = min(int(entity["offset"]) + int(entity["length"]) - cut, body_length)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return first.strip(), body, moved


def _web_url(text: str) -> str | None:
    """The editor's link as Telegram will accept it (a Cyrillic domain, spaces encoded)."""
    return telegram_url(text)


async def new_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(NewPost.kind)
    await message.answer(texts.NEW_ASK_KIND, reply_markup=kb.new_kinds())


async def kind_chosen(
    callback: CallbackQuery, callback_data: cb.NewKind, state: FSMContext
) -> None:
    await state.update_data(kind=callback_data.kind.value)
    await state.set_state(NewPost.text)
    await callback.answer()
    await show(callback, f"{texts.NEW_KIND_LABELS[callback_data.kind]}\n\n{texts.NEW_ASK_TEXT}")


def read_post(message: Message, too_long: str) -> tuple[str, str, list[dict[str, Any]]] | str:
    """(title, body, body's entities) of an editor's message (text, or a caption), or the
    Russian reason it can't be a post; `too_long` words the length limit for the dialog."""
    text = message.text or message.caption or ""
    entities = message.entities if message.text else message.caption_entities
    if not text.strip():
        return texts.NEW_TEXT_EMPTY
    if len(text) > TEXT_LIMIT:
        return too_long.format(length=len(text), limit=TEXT_LIMIT)
    title, body, body_entities = split_post(
        text, [e.model_dump(exclude_none=True) for e in entities or []]
    )
    if len(title) > TITLE_LIMIT:
        return texts.NEW_TITLE_TOO_LONG.format(limit=TITLE_LIMIT)
    return title, body, body_entities


async def text_sent(message: Message, state: FSMContext) -> None:
    post = read_post(message, texts.NEW_TEXT_TOO_LONG)
    if isinstance(post, str):
        await message.answer(post)
        return
    title, body, body_entities = post
    attachment: dict[str, str] = {}
    if message.photo:
        attachment = {"file_id": message.photo[-1].file_id, "file_kind": "photo"}
    elif message.document:
        attachment = {"file_id": message.document.file_id, "file_kind": "document"}
    await state.update_data(
        {"title": title, "body": body, "entities": body_entities, **attachment}
    )
    kind = ItemKind((await state.get_data())["kind"])
    if kind is ItemKind.EVENT:
        await state.set_state(NewPost.starts_at)
        await message.answer(texts.NEW_ASK_STARTS_AT)
    elif kind is ItemKind.CASE:
        await state.set_state(NewPost.organisation)
        await message.answer(texts.NEW_ASK_ORGANISATION)
    else:
        await _ask_audience(message, state)


async def _future_moment(message: Message, settings: Settings) -> datetime | None:
    """The moment the editor wrote, or None after telling them what is wrong."""
    text = message.text or ""
    now = datetime.now(settings.tz)
    moment = parse_when(text, now)
    if moment is None:
        await message.answer(texts.NEW_BAD_WHEN.format(text=text.strip()[:100]))
        return None
    if moment <= now:
        await message.answer(texts.NEW_PAST_WHEN.format(when=texts.format_date(moment)))
        return None
    return moment


async def starts_at_sent(message: Message, state: FSMContext, settings: Settings) -> None:
    moment = await _future_moment(message, settings)
    if moment is None:
        return
    await state.update_data(starts_at=moment.astimezone(UTC).isoformat())
    await state.set_state(NewPost.place)
    await message.answer(texts.NEW_ASK_PLACE, reply_markup=kb.new_skip(NewStep.PLACE))


async def _short(message: Message, limit: int) -> str | None:
    text = clean_name(message.text or "")
    if not text:
        await message.answer(texts.NEW_FIELD_EMPTY)
        return None
    if len(text) > limit:
        await message.answer(texts.NEW_FIELD_TOO_LONG.format(limit=limit))
        return None
    return text


async def _ask_registration(message: Message, state: FSMContext) -> None:
    await state.set_state(NewPost.registration)
    await message.answer(
        texts.NEW_ASK_REGISTRATION, reply_markup=kb.new_skip(NewStep.REGISTRATION)
    )


async def place_sent(message: Message, state: FSMContext) -> None:
    place = await _short(message, FIELD_LIMIT)
    if place is None:
        return
    await state.update_data(place=place)
    await _ask_registration(message, state)


async def registration_sent(message: Message, state: FSMContext) -> None:
    url = _web_url(message.text or "")
    if url is None:
        await message.answer(texts.NEW_BAD_URL)
        return
    await state.update_data(registration_url=url)
    await _ask_audience(message, state)


async def organisation_sent(message: Message, state: FSMContext) -> None:
    organisation = await _short(message, FIELD_LIMIT)
    if organisation is None:
        return
    await state.update_data(organisation=organisation)
    await state.set_state(NewPost.site_type)
    await message.answer(texts.NEW_ASK_SITE_TYPE, reply_markup=kb.new_skip(NewStep.SITE_TYPE))


async def site_type_sent(message: Message, state: FSMContext) -> None:
    site_type = await _short(message, SITE_TYPE_LIMIT)
    if site_type is None:
        return
    await state.update_data(site_type=site_type)
    await _ask_audience(message, state)


SKIPPABLE = {
    NewStep.PLACE: NewPost.place,
    NewStep.REGISTRATION: NewPost.registration,
    NewStep.SITE_TYPE: NewPost.site_type,
}


async def step_skipped(
    callback: CallbackQuery, callback_data: cb.NewSkip, state: FSMContext, bot: Bot
) -> None:
    if await state.get_state() != SKIPPABLE[callback_data.step].state:
        await callback.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await callback.answer()
    message = callback.message
    if not isinstance(message, Message):
        return
    await drop_keyboard(bot, message.chat.id, message.message_id)
    if callback_data.step is NewStep.PLACE:
        await _ask_registration(message, state)
    else:
        await _ask_audience(message, state)


def _audience(data: dict[str, Any]) -> tuple[frozenset[Role], frozenset[OrgKind]]:
    return (
        frozenset(Role(r) for r in data.get("roles", [])),
        frozenset(OrgKind(o) for o in data.get("orgs", [])),
    )


async def _ask_audience(message: Message, state: FSMContext) -> None:
    await state.set_state(NewPost.audience)
    roles, orgs = _audience(await state.get_data())
    await message.answer(texts.NEW_ASK_AUDIENCE, reply_markup=kb.new_audience(roles, orgs))


async def audience_toggled(
    callback: CallbackQuery, callback_data: cb.NewAudience, state: FSMContext
) -> None:
    roles, orgs = _audience(await state.get_data())
    action, code = callback_data.action, callback_data.code
    if action is AudienceAction.DONE:
        await state.set_state(NewPost.when)
        await callback.answer()
        await show(callback, texts.NEW_ASK_WHEN, kb.new_when())
        return
    if action is AudienceAction.ALL:
        roles, orgs = frozenset(), frozenset()
    elif action is AudienceAction.ROLE and code in Role._value2member_map_:
        roles = roles ^ {Role(code)}
    elif action is AudienceAction.ORG and code in OrgKind._value2member_map_:
        orgs = orgs ^ {OrgKind(code)}
    else:
        await callback.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await state.update_data(
        roles=sorted(r.value for r in roles), orgs=sorted(o.value for o in orgs)
    )
    await callback.answer()
    await show(callback, texts.NEW_ASK_AUDIENCE, kb.new_audience(roles, orgs))


async def when_chosen(
    callback: CallbackQuery, callback_data: cb.NewWhen, state: FSMContext, settings: Settings
) -> None:
    await state.update_data(mode=callback_data.mode.value, publish_at=None)
    await callback.answer()
    message = callback.message
    if isinstance(message, Message):
        await show(
            callback, f"{texts.NEW_ASK_WHEN}\n\n{texts.NEW_WHEN_LABELS[callback_data.mode]}"
        )
        await _preview(message, state, settings, callback.from_user.id)


async def when_typed(message: Message, state: FSMContext, settings: Settings) -> None:
    moment = await _future_moment(message, settings)
    if moment is None:
        return
    await state.update_data(
        mode=PublishMode.AT.value, publish_at=moment.astimezone(UTC).isoformat()
    )
    await _preview(message, state, settings, message.chat.id)


class PreviewError(RuntimeError):
    """Telegram refused a part of the preview (the error handler tells the editor)."""


async def _preview(message: Message, state: FSMContext, settings: Settings, author: int) -> None:
    data = await state.get_data()
    item = draft_item(data, author)
    # The post exactly as the delivery engine will send it: the same message parts
    # (publishing.post_parts) through the same transport.
    assert message.bot is not None
    transport = TelegramTransport(message.bot, rate=settings.send_rate)
    for part in post_parts(item, settings.tz):
        result = await transport.send(message.chat.id, part)
        if not result.done:
            raise PreviewError(result.error)
    roles, orgs = _audience(data)
    summary = texts.new_summary(
        item.kind,
        texts.new_audience_text(roles, orgs),
        PublishMode(data["mode"]),
        item.publish_at,
        settings.tz,
    )
    await state.set_state(NewPost.confirm)
    await message.answer(
        f"{texts.NEW_PREVIEW_HEADING}\n{summary}",
        reply_markup=kb.new_confirm(data["mode"] == WhenMode.NOW.value),
    )


async def confirmed(
    callback: CallbackQuery,
    callback_data: cb.NewConfirm,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    data = await state.get_data()
    await state.clear()
    await callback.answer()
    if not callback_data.publish:
        await show(callback, texts.NEW_CANCELLED)
        return
    editor = callback.from_user.id
    mode = PublishMode(data["mode"])

    async def stored(item: Item) -> None:
        at = item.publish_at
        when = texts.format_date(at.astimezone(settings.tz)) if at else ""
        await show(callback, DONE[mode].format(title=item.title, when=when))

    draft = draft_item(data, editor)
    await services.posts.create(draft, mode, editor, datetime.now(UTC), stored=stored)


async def stale_button(callback: CallbackQuery) -> None:
    await callback.answer(texts.STALE_BUTTON, show_alert=True)


def build_router() -> Router:
    router = Router(name="new-post")
    typed = (F.text, ~F.text.startswith("/"))
    router.message.register(new_command, Command("new"))
    router.callback_query.register(kind_chosen, StateFilter(NewPost.kind), cb.NewKind.filter())
    router.message.register(text_sent, StateFilter(NewPost.text), ~(F.text.startswith("/")))
    router.message.register(starts_at_sent, StateFilter(NewPost.starts_at), *typed)
    router.message.register(place_sent, StateFilter(NewPost.place), *typed)
    router.message.register(registration_sent, StateFilter(NewPost.registration), *typed)
    router.message.register(organisation_sent, StateFilter(NewPost.organisation), *typed)
    router.message.register(site_type_sent, StateFilter(NewPost.site_type), *typed)
    router.callback_query.register(step_skipped, cb.NewSkip.filter())
    router.callback_query.register(
        audience_toggled, StateFilter(NewPost.audience), cb.NewAudience.filter()
    )
    router.callback_query.register(when_chosen, StateFilter(NewPost.when), cb.NewWhen.filter())
    router.message.register(when_typed, StateFilter(NewPost.when), *typed)
    router.callback_query.register(confirmed, StateFilter(NewPost.confirm), cb.NewConfirm.filter())
    # A button of a dialog that has moved on (or was cancelled) is out of date, not forbidden.
    for stale in (cb.NewKind, cb.NewAudience, cb.NewWhen, cb.NewConfirm):
        router.callback_query.register(stale_button, stale.filter())
    return router
