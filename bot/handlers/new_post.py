"""/new: an editor writes an announcement, material, event or case on the phone and publishes it
now, at a time, with the next digest, or keeps it as a draft.

The dialog talks back: each typed answer gets one line of what was understood («Понял: ср,
10 декабря, 10:00») with «Изменить», every question has «◂ Назад», and the preview corrects any
field and comes back to the preview. A value changed through «Изменить» returns the dialog to
where the editor was (the `resume` stage), not through every step in between.

The whole draft lives in the dialog's data (the SQL-backed FSM storage), so it survives a restart;
the item is written only when the editor confirms.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.config import Settings
from bot.content.cleaning import clean_name
from bot.content.links import telegram_url
from bot.content.models import Item, ItemKind, OrgKind, PublishMode, Role
from bot.content.when import lacks_time, parse_when
from bot.handlers.common import drop_keyboard, show
from bot.services.container import Services
from bot.services.posts import draft_item
from bot.services.publishing import post_parts
from bot.services.timetable import next_weekly_digest
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.callbacks import AudienceAction, NewStage
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


STATE_OF = {
    NewStage.KIND: NewPost.kind,
    NewStage.TEXT: NewPost.text,
    NewStage.STARTS_AT: NewPost.starts_at,
    NewStage.PLACE: NewPost.place,
    NewStage.REGISTRATION: NewPost.registration,
    NewStage.ORGANISATION: NewPost.organisation,
    NewStage.SITE_TYPE: NewPost.site_type,
    NewStage.AUDIENCE: NewPost.audience,
    NewStage.WHEN: NewPost.when,
    NewStage.CONFIRM: NewPost.confirm,
}
STAGE_OF = {state.state: stage for stage, state in STATE_OF.items()}
# The draft's key of each typed field, and what belongs to one kind only (dropped when the
# editor goes back and picks another kind).
FIELD_OF = {
    NewStage.STARTS_AT: "starts_at",
    NewStage.PLACE: "place",
    NewStage.REGISTRATION: "registration_url",
    NewStage.ORGANISATION: "organisation",
    NewStage.SITE_TYPE: "site_type",
}
SKIPPABLE = (NewStage.PLACE, NewStage.REGISTRATION, NewStage.SITE_TYPE)


def stages(kind: ItemKind) -> list[NewStage]:
    """The steps a post of `kind` goes through, in order."""
    own = {
        ItemKind.EVENT: [NewStage.STARTS_AT, NewStage.PLACE, NewStage.REGISTRATION],
        ItemKind.CASE: [NewStage.ORGANISATION, NewStage.SITE_TYPE],
    }.get(kind, [])
    return [NewStage.TEXT, *own, NewStage.AUDIENCE, NewStage.WHEN, NewStage.CONFIRM]


def _kind(data: dict[str, Any]) -> ItemKind:
    return ItemKind(data["kind"])


def _next(data: dict[str, Any], stage: NewStage) -> NewStage:
    order = stages(_kind(data))
    return order[order.index(stage) + 1]


def _previous(data: dict[str, Any], stage: NewStage) -> NewStage:
    order = stages(_kind(data))
    index = order.index(stage)
    return order[index - 1] if index > 0 else NewStage.KIND


async def _stage(state: FSMContext) -> NewStage | None:
    return STAGE_OF.get(await state.get_state() or "")


async def new_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(NewPost.kind)
    await message.answer(texts.NEW_ASK_KIND, reply_markup=kb.new_kinds())


async def kind_chosen(
    callback: CallbackQuery,
    callback_data: cb.NewKind,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    data = await state.get_data()
    if data.get("kind") not in (None, callback_data.kind.value):
        # Another kind after «Назад»: the text stays, the old kind's own fields go.
        for stage in FIELD_OF:
            data.pop(FIELD_OF[stage], None)
        data.pop("mode", None)
        data.pop("publish_at", None)
        data.pop("pending_place", None)
    data["kind"] = callback_data.kind.value
    await state.set_data(data)
    await callback.answer()
    await _go(callback, state, NewStage.TEXT, settings, services)


def _now_value(stage: NewStage, data: dict[str, Any], settings: Settings) -> str | None:
    """The value a step already has, shown when it is asked again."""
    if stage is NewStage.TEXT:
        return f"«{data['title']}»" if data.get("title") else None
    value = data.get(FIELD_OF.get(stage, ""))
    if not value:
        return None
    if stage is NewStage.STARTS_AT:
        return _moment_text(datetime.fromisoformat(value), settings)
    return str(value)


def _moment_text(moment: datetime, settings: Settings) -> str:
    local = moment.astimezone(settings.tz)
    return texts.new_moment(local, datetime.now(settings.tz).date())


async def _people(data: dict[str, Any], services: Services) -> int:
    roles, orgs = _audience(data)
    return await services.posts.audience_size(_kind(data), roles, orgs)


async def _question(
    stage: NewStage, data: dict[str, Any], settings: Settings, services: Services
) -> tuple[str, Any]:
    """The text and buttons of a step's question (every step but the preview)."""
    if stage is NewStage.KIND:
        return texts.NEW_ASK_KIND, kb.new_kinds()
    if stage is NewStage.AUDIENCE:
        roles, orgs = _audience(data)
        people = texts.new_audience_count(await _people(data, services))
        return f"{texts.NEW_ASK_AUDIENCE}\n\n{people}", kb.new_audience(roles, orgs)
    if stage is NewStage.WHEN:
        return texts.NEW_ASK_WHEN, kb.new_when(_kind(data) is not ItemKind.ANNOUNCEMENT)
    asks = {
        NewStage.TEXT: f"{texts.NEW_KIND_LABELS[_kind(data)]}\n\n{texts.NEW_ASK_TEXT}",
        NewStage.STARTS_AT: texts.NEW_ASK_STARTS_AT,
        NewStage.PLACE: texts.NEW_ASK_PLACE,
        NewStage.REGISTRATION: texts.NEW_ASK_REGISTRATION,
        NewStage.ORGANISATION: texts.NEW_ASK_ORGANISATION,
        NewStage.SITE_TYPE: texts.NEW_ASK_SITE_TYPE,
    }
    text = asks[stage]
    now_value = _now_value(stage, data, settings)
    if now_value is not None:
        text += "\n\n" + texts.NEW_NOW_VALUE.format(value=now_value)
    markup = kb.new_step(stage, skip=stage in SKIPPABLE, keep=now_value is not None)
    return text, markup


async def _go(
    where: Message | CallbackQuery,
    state: FSMContext,
    stage: NewStage,
    settings: Settings,
    services: Services,
    *,
    note: str | None = None,
) -> None:
    """Ask `stage`'s question: in place of the pressed message (a button), or as a new message
    (after a typed answer); the preview is always new messages. `note` comes first."""
    await state.set_state(STATE_OF[stage])
    message = where.message if isinstance(where, CallbackQuery) else where
    if not isinstance(message, Message):
        return
    data = await state.get_data()
    if stage is NewStage.CONFIRM:
        author = where.from_user.id if where.from_user else message.chat.id
        await _preview(message, state, settings, services, author)
        return
    text, markup = await _question(stage, data, settings, services)
    if note:
        text = f"{note}\n\n{text}"
    if isinstance(where, CallbackQuery):
        await show(where, text, markup)
    else:
        await message.answer(text, reply_markup=markup)


async def _advance(
    message: Message, state: FSMContext, done: NewStage, settings: Settings, services: Services
) -> None:
    """After `done` has its value: back to where an «Изменить» came from, else the next step."""
    data = await state.get_data()
    resume = data.pop("resume", None)
    await state.set_data(data)
    target = NewStage(resume) if resume else _next(data, done)
    await _go(message, state, target, settings, services)


async def _understood(message: Message, stage: NewStage, line: str) -> None:
    """One line of what the dialog understood, under the editor's answer, with «Изменить»."""
    await message.reply(line, reply_markup=kb.new_understood(stage))


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


async def text_sent(
    message: Message, state: FSMContext, settings: Settings, services: Services
) -> None:
    post = read_post(message, texts.NEW_TEXT_TOO_LONG)
    if isinstance(post, str):
        await message.answer(post)
        return
    title, body, body_entities = post
    attachment: dict[str, str | None] = {"file_id": None, "file_kind": None}
    if message.photo:
        attachment = {"file_id": message.photo[-1].file_id, "file_kind": "photo"}
    elif message.document:
        attachment = {"file_id": message.document.file_id, "file_kind": "document"}
    await state.update_data(
        {"title": title, "body": body, "entities": body_entities, **attachment}
    )
    line = texts.new_understood_text(title, body, attachment["file_kind"])
    await _understood(message, NewStage.TEXT, line)
    await _advance(message, state, NewStage.TEXT, settings, services)


def _moment(text: str, settings: Settings) -> datetime | str:
    """The future moment the editor wrote, or the Russian reason it can't be one."""
    now = datetime.now(settings.tz)
    moment = parse_when(text, now)
    if moment is None and lacks_time(text, now):
        return texts.NEW_WHEN_NEEDS_TIME.format(text=text.strip(" .!")[:100])
    if moment is None:
        return texts.NEW_BAD_WHEN.format(text=text.strip()[:100])
    if moment <= now:
        return texts.NEW_PAST_WHEN.format(when=texts.format_date(moment))
    return moment


async def starts_at_sent(
    message: Message, state: FSMContext, settings: Settings, services: Services
) -> None:
    moment = _moment(message.text or "", settings)
    if isinstance(moment, str):
        await message.answer(moment)
        return
    await _set_starts_at(message, state, moment, settings, services)


async def _set_starts_at(
    message: Message,
    state: FSMContext,
    moment: datetime,
    settings: Settings,
    services: Services,
) -> None:
    await state.update_data(starts_at=moment.astimezone(UTC).isoformat())
    await _understood(
        message, NewStage.STARTS_AT, texts.new_understood("date", _moment_text(moment, settings))
    )
    await _advance(message, state, NewStage.STARTS_AT, settings, services)


async def _short(message: Message, limit: int) -> str | None:
    text = clean_name(message.text or "")
    if not text:
        await message.answer(texts.NEW_FIELD_EMPTY)
        return None
    if len(text) > limit:
        await message.answer(texts.NEW_FIELD_TOO_LONG.format(limit=limit))
        return None
    return text


async def _set_field(
    message: Message,
    state: FSMContext,
    stage: NewStage,
    value: str,
    settings: Settings,
    services: Services,
) -> None:
    await state.update_data({FIELD_OF[stage]: value, "pending_place": None})
    await _understood(message, stage, texts.new_understood(stage.value, value))
    await _advance(message, state, stage, settings, services)


async def place_sent(
    message: Message, state: FSMContext, settings: Settings, services: Services
) -> None:
    place = await _short(message, FIELD_LIMIT)
    if place is None:
        return
    data = await state.get_data()
    # A date typed here is most likely the editor correcting the date, not a place: ask.
    moment = parse_when(place, datetime.now(settings.tz))
    if moment is not None and data.get("starts_at"):
        current = datetime.fromisoformat(data["starts_at"]).astimezone(settings.tz)
        await state.update_data(pending_place=place)
        await message.answer(
            texts.NEW_PLACE_LOOKS_LIKE_DATE.format(
                text=place,
                when=_moment_text(moment, settings),
                current=_moment_text(current, settings),
            ),
            reply_markup=kb.new_place_is_date(),
        )
        return
    await _set_field(message, state, NewStage.PLACE, place, settings, services)


async def place_is_date(
    callback: CallbackQuery,
    callback_data: cb.NewPlaceIsDate,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    pending = (await state.get_data()).get("pending_place")
    message = callback.message
    if (
        await _stage(state) is not NewStage.PLACE
        or not pending
        or not isinstance(message, Message)
    ):
        await callback.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await callback.answer()
    await _drop(callback)
    if not callback_data.is_date:
        await _set_field(message, state, NewStage.PLACE, pending, settings, services)
        return
    await state.update_data(pending_place=None)
    moment = _moment(pending, settings)
    if isinstance(moment, str):  # gone past meanwhile: ask the date, then come back here
        await state.update_data(resume=NewStage.PLACE.value)
        await _go(message, state, NewStage.STARTS_AT, settings, services, note=moment)
        return
    await state.update_data(resume=NewStage.PLACE.value)
    await _set_starts_at(message, state, moment, settings, services)


async def registration_sent(
    message: Message, state: FSMContext, settings: Settings, services: Services
) -> None:
    url = _web_url(message.text or "")
    if url is None:
        await message.answer(texts.NEW_BAD_URL)
        return
    await _set_field(message, state, NewStage.REGISTRATION, url, settings, services)


async def organisation_sent(
    message: Message, state: FSMContext, settings: Settings, services: Services
) -> None:
    organisation = await _short(message, FIELD_LIMIT)
    if organisation is not None:
        await _set_field(message, state, NewStage.ORGANISATION, organisation, settings, services)


async def site_type_sent(
    message: Message, state: FSMContext, settings: Settings, services: Services
) -> None:
    site_type = await _short(message, SITE_TYPE_LIMIT)
    if site_type is not None:
        await _set_field(message, state, NewStage.SITE_TYPE, site_type, settings, services)


async def _drop(callback: CallbackQuery) -> None:
    """Take the buttons off the pressed message: its step is over."""
    message = callback.message
    if isinstance(message, Message) and message.bot is not None:
        await drop_keyboard(message.bot, message.chat.id, message.message_id)


async def _pressed_on(
    callback: CallbackQuery, state: FSMContext, stage: NewStage
) -> Message | None:
    """The message under a step's button, if the dialog is at that step; else the presser is
    told the button is out of date and None comes back."""
    message = callback.message
    if await _stage(state) is not stage or not isinstance(message, Message):
        await callback.answer(texts.STALE_BUTTON, show_alert=True)
        return None
    await callback.answer()
    return message


async def step_skipped(
    callback: CallbackQuery,
    callback_data: cb.NewSkip,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    stage = callback_data.step
    message = await _pressed_on(callback, state, stage)
    if message is None or stage not in SKIPPABLE:
        return
    await state.update_data({FIELD_OF[stage]: None, "pending_place": None})
    await _drop(callback)
    await _advance(message, state, stage, settings, services)


async def step_kept(
    callback: CallbackQuery,
    callback_data: cb.NewKeep,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    message = await _pressed_on(callback, state, callback_data.stage)
    if message is None:
        return
    await _drop(callback)
    await _advance(message, state, callback_data.stage, settings, services)


async def step_back(
    callback: CallbackQuery,
    callback_data: cb.NewBack,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    """«◂ Назад»: during an «Изменить» back to where the editor was, else the step before."""
    stage = callback_data.stage
    # The dialog is at `stage` (never KIND: its question has no «Назад»).
    if await _pressed_on(callback, state, stage) is None:
        return
    data = await state.get_data()
    resume = data.pop("resume", None)
    data["pending_place"] = None
    await state.set_data(data)
    target = NewStage(resume) if resume else _previous(data, stage)
    if target is NewStage.CONFIRM:
        await _drop(callback)
    await _go(callback, state, target, settings, services)


async def field_edit(
    callback: CallbackQuery,
    callback_data: cb.NewEdit,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    """«Изменить» under an understood answer or on the preview: ask that field again, then
    come back here."""
    stage = callback_data.stage
    current = await _stage(state)
    data = await state.get_data()
    message = callback.message
    if (
        current in (None, NewStage.KIND)
        or stage in (NewStage.KIND, NewStage.CONFIRM)
        or stage not in stages(_kind(data))
        or not isinstance(message, Message)
    ):
        await callback.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await callback.answer()
    assert current is not None
    if current is not stage and not data.get("resume"):
        data["resume"] = current.value
    data["pending_place"] = None
    await state.set_data(data)
    if current is NewStage.CONFIRM:  # the preview is left: its buttons go with it
        await _drop(callback)
    note = texts.NEW_EDITING.format(what=texts.NEW_EDITED_WHAT[stage.value])
    await state.set_state(STATE_OF[stage])
    text, markup = await _question(stage, await state.get_data(), settings, services)
    await message.answer(f"{note}\n\n{text}", reply_markup=markup)


def _audience(data: dict[str, Any]) -> tuple[frozenset[Role], frozenset[OrgKind]]:
    return (
        frozenset(Role(r) for r in data.get("roles", [])),
        frozenset(OrgKind(o) for o in data.get("orgs", [])),
    )


async def audience_toggled(
    callback: CallbackQuery,
    callback_data: cb.NewAudience,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    data = await state.get_data()
    roles, orgs = _audience(data)
    action, code = callback_data.action, callback_data.code
    if action is AudienceAction.DONE:
        await callback.answer()
        await _advance_from_button(callback, state, NewStage.AUDIENCE, settings, services)
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
    await _go(callback, state, NewStage.AUDIENCE, settings, services)


async def _advance_from_button(
    callback: CallbackQuery,
    state: FSMContext,
    done: NewStage,
    settings: Settings,
    services: Services,
) -> None:
    """A button step is done: its message becomes the next question (the preview: new ones)."""
    data = await state.get_data()
    resume = data.pop("resume", None)
    await state.set_data(data)
    target = NewStage(resume) if resume else _next(data, done)
    if target is NewStage.CONFIRM:
        await _drop(callback)
    await _go(callback, state, target, settings, services)


def _problem(data: dict[str, Any], settings: Settings) -> tuple[NewStage, str] | None:
    """Why the draft can't go out as chosen (the step to fix and the Russian reason), if so:
    a digest that would come after the event (or an announcement, never in one), a time past or
    after the event's start, an event whose date has passed while the draft waited."""
    kind, mode = _kind(data), data.get("mode")
    now = datetime.now(settings.tz)
    starts = datetime.fromisoformat(data["starts_at"]) if data.get("starts_at") else None
    if starts is not None and starts <= now:
        return NewStage.STARTS_AT, texts.NEW_PAST_WHEN.format(
            when=texts.format_date(starts.astimezone(settings.tz))
        )
    if mode == PublishMode.DIGEST.value:
        if kind is ItemKind.ANNOUNCEMENT:
            return NewStage.WHEN, texts.NEW_DIGEST_NOT_FOR_ANNOUNCEMENT
        digest = next_weekly_digest(settings, now)
        if starts is not None and digest is not None and starts <= digest:
            return NewStage.WHEN, texts.NEW_DIGEST_TOO_LATE.format(
                digest=texts.format_date(digest),
                starts=texts.format_date(starts.astimezone(settings.tz)),
            )
    if mode == PublishMode.AT.value and data.get("publish_at"):
        at = datetime.fromisoformat(data["publish_at"]).astimezone(settings.tz)
        if at <= now:
            return NewStage.WHEN, texts.NEW_PAST_WHEN.format(when=texts.format_date(at))
        if starts is not None and at >= starts:
            return NewStage.WHEN, texts.NEW_AT_AFTER_START.format(
                when=texts.format_date(at),
                starts=texts.format_date(starts.astimezone(settings.tz)),
            )
    return None


async def when_chosen(
    callback: CallbackQuery,
    callback_data: cb.NewWhen,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    data = await state.get_data()
    data.update(mode=callback_data.mode.value, publish_at=None)
    problem = _problem(data, settings)
    if problem is not None and problem[0] is NewStage.WHEN:
        await callback.answer()
        await _go(callback, state, NewStage.WHEN, settings, services, note=problem[1])
        return
    data.pop("resume", None)
    await state.set_data(data)
    await callback.answer()
    message = callback.message
    if isinstance(message, Message):
        await show(
            callback, f"{texts.NEW_ASK_WHEN}\n\n{texts.NEW_WHEN_LABELS[callback_data.mode]}"
        )
        await _go(message, state, NewStage.CONFIRM, settings, services)


async def when_typed(
    message: Message, state: FSMContext, settings: Settings, services: Services
) -> None:
    moment = _moment(message.text or "", settings)
    if isinstance(moment, str):
        await message.answer(moment)
        return
    data = await state.get_data()
    data.update(mode=PublishMode.AT.value, publish_at=moment.astimezone(UTC).isoformat())
    problem = _problem(data, settings)
    if problem is not None and problem[0] is NewStage.WHEN:
        await message.answer(problem[1])
        return
    data.pop("resume", None)
    await state.set_data(data)
    await _understood(
        message, NewStage.WHEN, texts.new_understood("when", _moment_text(moment, settings))
    )
    await _go(message, state, NewStage.CONFIRM, settings, services)


class PreviewError(RuntimeError):
    """Telegram refused a part of the preview (the error handler tells the editor)."""


def _fields(kind: ItemKind) -> tuple[NewStage, ...]:
    return tuple(stage for stage in stages(kind) if stage is not NewStage.CONFIRM)


async def _preview(
    message: Message, state: FSMContext, settings: Settings, services: Services, author: int
) -> None:
    data = await state.get_data()
    problem = _problem(data, settings)
    if problem is not None:  # time has moved on since the step was answered
        await _go(message, state, problem[0], settings, services, note=problem[1])
        return
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
    mode = PublishMode(data["mode"])
    people = await _people(data, services)
    summary = texts.new_summary(
        item.kind, texts.new_audience_text(roles, orgs), people, mode, item.publish_at,
        settings.tz,
    )  # fmt: skip
    await state.set_state(NewPost.confirm)
    await message.answer(
        f"{texts.NEW_PREVIEW_HEADING}\n{summary}",
        reply_markup=kb.new_confirm(mode is PublishMode.NOW, _fields(item.kind), people == 0),
    )


async def confirmed(
    callback: CallbackQuery,
    callback_data: cb.NewConfirm,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    data = await state.get_data()
    if not callback_data.publish:
        await state.clear()
        await callback.answer()
        await show(callback, texts.NEW_CANCELLED)
        return
    mode = PublishMode(data["mode"])
    problem = _problem(data, settings)
    message = callback.message
    if problem is not None and isinstance(message, Message):
        await callback.answer()
        await _drop(callback)
        await _go(message, state, problem[0], settings, services, note=problem[1])
        return
    if mode is PublishMode.NOW and await _people(data, services) == 0:
        # Nobody to send to: nothing is stored or queued, the draft stays at the preview.
        await callback.answer()
        await show(
            callback,
            texts.NEW_NOBODY_NOW,
            kb.new_confirm(True, _fields(_kind(data)), True),
        )
        return
    await state.clear()
    await callback.answer()
    editor = callback.from_user.id

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
    router.callback_query.register(step_kept, cb.NewKeep.filter())
    router.callback_query.register(step_back, cb.NewBack.filter())
    router.callback_query.register(field_edit, cb.NewEdit.filter())
    router.callback_query.register(place_is_date, cb.NewPlaceIsDate.filter())
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
