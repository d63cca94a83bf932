"""The Bot API emulator, driven by a real aiogram Bot to prove aiogram accepts its answers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    ChatMemberBanned,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from tests.support.emulator import BotAPIEmulator, Call, UploadedFile

TOKEN = "123456:" + "A" * 35
USER = 501


class FakeClock:
    """Injectable clock for flood control: tests move time instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FastSession(AiohttpSession):
    """AiohttpSession whose close() skips the 250 ms TLS grace sleep (plain HTTP here)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data)] for text, data in buttons
        ]
    )


def make_bot(base_url: str, token: str = TOKEN) -> Bot:
    return Bot(token, session=FastSession(api=TelegramAPIServer.from_base(base_url)))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emulator(clock: FakeClock) -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(clock=clock) as emu:
        emu.user(USER, first_name="Анна", username="anna")
        yield emu


@pytest.fixture
async def bot(emulator: BotAPIEmulator) -> AsyncIterator[Bot]:
    bot = make_bot(emulator.base_url)
    yield bot
    await bot.session.close()


async def test_get_me(bot: Bot, emulator: BotAPIEmulator) -> None:
    me = await bot.get_me()

    assert me.id == 100000
    assert me.is_bot
    assert me.username == "infozona_test_bot"
    assert emulator.token == TOKEN
    [call] = emulator.calls_of("getme")
    assert call.method == "getMe"
    assert call.ok


async def test_send_and_edit_with_inline_keyboard(bot: Bot, emulator: BotAPIEmulator) -> None:
    sent = await bot.send_message(
        USER, "Меню", reply_markup=keyboard(("Первая", "a:1"), ("Вторая", "b:2"))
    )
    assert isinstance(sent, Message)
    assert sent.chat.id == USER
    assert sent.from_user is not None
    assert sent.from_user.is_bot
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[1][0].callback_data == "b:2"

    stored = emulator.last_message(USER)
    assert stored["text"] == "Меню"
    assert emulator.buttons(stored) == [("Первая", "a:1"), ("Вторая", "b:2")]
    assert emulator.button_data(stored, "Втор") == "b:2"
    with pytest.raises(AssertionError, match="Первая"):
        emulator.button_data(stored, "Третья")

    edited = await bot.edit_message_text(
        "Меню изменено",
        chat_id=USER,
        message_id=sent.message_id,
        reply_markup=keyboard(("Ок", "ok")),
    )
    assert isinstance(edited, Message)
    assert edited.text == "Меню изменено"
    assert edited.edit_date is not None

    [current] = emulator.messages(USER)
    assert current["text"] == "Меню изменено"
    assert emulator.buttons(current) == [("Ок", "ok")]
    [edit] = emulator.calls_of("editMessageText", chat_id=USER)
    assert edit.params["message_id"] == sent.message_id
    assert edit.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Ок", "callback_data": "ok"}]]
    }
    # The response recorded for the send is a snapshot, untouched by the later edit.
    assert emulator.calls_of("sendMessage")[0].result["text"] == "Меню"

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Меню изменено",
            chat_id=USER,
            message_id=sent.message_id,
            reply_markup=keyboard(("Ок", "ok")),
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)

    # Like Telegram, editing the text without reply_markup drops the inline keyboard.
    await bot.edit_message_text("Без кнопок", chat_id=USER, message_id=sent.message_id)
    assert "reply_markup" not in emulator.last_message(USER)

    markup_only = await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=keyboard(("Снова", "again"))
    )
    assert isinstance(markup_only, Message)
    assert emulator.buttons(emulator.last_message(USER)) == [("Снова", "again")]

    assert await bot.delete_message(USER, sent.message_id)
    assert emulator.messages(USER) == []
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, sent.message_id)


async def test_long_poll_delivers_message_and_callback(bot: Bot, emulator: BotAPIEmulator) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await emulator.wait_until_polling()
    sent = emulator.send_message(USER, "/start ref42")
    updates = await asyncio.wait_for(poll, 2)

    [update] = updates
    assert update.message is not None
    assert update.message.message_id == sent["message_id"]
    assert update.message.text == "/start ref42"
    [entity] = update.message.entities or []
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)
    assert update.message.from_user is not None
    assert update.message.from_user.username == "anna"

    menu = await bot.send_message(USER, "Выберите", reply_markup=keyboard(("Дальше", "go")))
    assert menu.message_id == sent["message_id"] + 1  # one id sequence per private chat
    callback_id = emulator.press_button(USER, menu.message_id, "go")
    updates = await bot.get_updates(offset=update.update_id + 1, timeout=1)

    [update] = updates
    query = update.callback_query
    assert query is not None
    assert query.id == callback_id
    assert query.data == "go"
    assert isinstance(query.message, Message)
    assert query.message.message_id == menu.message_id

    assert await bot.answer_callback_query(callback_id, text="Готово")
    answer = await emulator.answer_to(callback_id)
    assert answer.params["text"] == "Готово"
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query(callback_id)

    # A later offset confirms everything; nothing is left.
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == []

    with pytest.raises(AssertionError, match="no button"):
        emulator.press_button(USER, menu.message_id, "forged")
    with pytest.raises(AssertionError, match="no bot message"):
        emulator.press_button(USER, 12345, "go")
    forged = emulator.press(USER, emulator.last_message(USER), "forged")
    [update] = await bot.get_updates(offset=update.update_id + 1)
    assert update.callback_query is not None
    assert update.callback_query.id == forged
    assert update.callback_query.data == "forged"


async def test_allowed_updates_filter(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.send_message(USER, "привет")
    emulator.block_bot(USER)

    updates = await bot.get_updates(allowed_updates=["my_chat_member"])

    assert [u.event_type for u in updates] == ["my_chat_member"]
    # The message was not wanted and is gone even after widening the filter again.
    assert await bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=[]) == []


async def test_stop_releases_pending_long_poll(bot: Bot, emulator: BotAPIEmulator) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await emulator.wait_until_polling()

    await asyncio.wait_for(emulator.stop(), 2)

    assert await asyncio.wait_for(poll, 2) == []


async def test_block_and_unblock(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.block_bot(USER)
    [update] = await bot.get_updates(allowed_updates=["message", "my_chat_member"])

    member_update = update.my_chat_member
    assert member_update is not None
    assert member_update.chat.id == USER
    assert isinstance(member_update.old_chat_member, ChatMemberMember)
    assert isinstance(member_update.new_chat_member, ChatMemberBanned)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "Вы тут?")

    emulator.unblock_bot(USER)
    [update] = await bot.get_updates(offset=update.update_id + 1)
    assert update.my_chat_member is not None
    assert isinstance(update.my_chat_member.new_chat_member, ChatMemberMember)
    assert (await bot.send_message(USER, "С возвращением")).text == "С возвращением"


async def test_failure_injection(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.fail_next("sendMessage", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "раз")
    assert caught.value.retry_after == 7
    assert (await bot.send_message(USER, "два")).text == "два"

    emulator.user(USER + 1)
    emulator.fail_next("SENDMESSAGE", status=502, chat_id=USER + 1, times=2)
    assert await bot.send_message(USER, "другому чату можно")
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(USER + 1, "сбой")
    assert await bot.send_message(USER + 1, "прошло")

    emulator.forbid(USER, "Forbidden: user is deactivated")
    with pytest.raises(TelegramForbiddenError, match="deactivated"):
        await bot.send_message(USER, "?")
    emulator.allow(USER)
    assert await bot.send_message(USER, "снова можно")


async def test_resets_hangs_and_outages(
    bot: Bot, emulator: BotAPIEmulator, clock: FakeClock
) -> None:
    """A reset connection and a request never answered reach the client as network errors
    and send nothing; an outage fails every request until it is over."""
    emulator.reset_next("sendMessage")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "сброс")
    emulator.hang_next("sendMessage", chat_id=USER)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "тишина", request_timeout=1)
    assert emulator.messages(USER) == []
    assert [c.response["description"] for c in emulator.calls_of("sendMessage")] == [
        "connection reset",
        "no answer (hung)",
    ]
    assert (await bot.send_message(USER, "снова связь")).text == "снова связь"

    emulator.outage(60, html_page=True)
    with pytest.raises(ClientDecodeError):
        await bot.send_message(USER, "502")
    clock.now += 30
    with pytest.raises(ClientDecodeError):
        await bot.get_me()
    clock.now += 30
    emulator.outage(10, method="sendMessage", status=500)
    assert await bot.get_me()  # only sendMessage is out now
    with pytest.raises(TelegramServerError):
        await bot.send_message(USER, "500")
    clock.now += 10
    assert (await bot.send_message(USER, "прошло")).text == "прошло"
    assert [m["text"] for m in emulator.messages(USER)] == ["снова связь", "прошло"]


async def test_flood_control_with_fake_clock(
    bot: Bot, emulator: BotAPIEmulator, clock: FakeClock
) -> None:
    emulator.user(USER + 1)
    emulator.set_flood_control(global_per_sec=30, per_chat_per_sec=1)

    await bot.send_message(USER, "первое")
    clock.now += 0.5
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "второе сразу")
    assert caught.value.retry_after == 1
    assert emulator.flood_rejections == 1
    await bot.send_message(USER + 1, "в другой чат можно")
    clock.now += 0.5
    await bot.send_message(USER, "через секунду можно")

    emulator.set_flood_control(global_per_sec=2, per_chat_per_sec=None)
    await bot.send_message(USER, "1")
    await bot.send_message(USER + 1, "2")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER, "3")
    assert emulator.flood_rejections == 2
    assert [call.at for call in emulator.calls][-1] == clock.now


async def test_send_document_and_photo(bot: Bot, emulator: BotAPIEmulator) -> None:
    content = b"%PDF-1.4 digest"
    sent = await bot.send_document(
        USER, BufferedInputFile(content, filename="digest.pdf"), caption="Дайджест"
    )

    assert sent.document is not None
    assert sent.document.file_name == "digest.pdf"
    assert sent.document.file_size == len(content)
    assert sent.caption == "Дайджест"
    [call] = emulator.calls_of("sendDocument", chat_id=USER)
    upload = call.params["document"]
    assert isinstance(upload, UploadedFile)
    assert (upload.filename, upload.content) == ("digest.pdf", content)
    assert call.params["caption"] == "Дайджест"
    assert emulator.file_content(emulator.last_message(USER)) == content

    again = await bot.send_document(USER, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_id == sent.document.file_id
    downloaded = await bot.download(sent.document.file_id)
    assert downloaded is not None
    assert downloaded.read() == content

    photo = await bot.send_photo(USER, BufferedInputFile(b"\x89PNG", filename="p.png"))
    assert photo.photo is not None
    assert emulator.file_content(photo.photo[-1].file_id) == b"\x89PNG"
    assert (await emulator.next_message(USER))["document"]["file_name"] == "digest.pdf"


async def test_malformed_token_is_unauthorized(emulator: BotAPIEmulator) -> None:
    bot = make_bot(emulator.base_url, token="123:short")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await bot.get_me()
    finally:
        await bot.session.close()
    [call] = emulator.calls
    assert call.response == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert emulator.token is None


async def test_validation_errors(bot: Bot, emulator: BotAPIEmulator) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, " ")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "я" * 4097)
    assert await bot.send_message(USER, "я" * 4096)
    # Markup does not count towards the limit, like on Telegram.
    assert await bot.send_message(USER, "<b>" + "я" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "кому?")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER, "строка<br>строка", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER, "1 < 2", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "x", reply_markup=keyboard(("длинная", "x" * 65)))
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(USER, "ответ", reply_to_message_id=777)


async def test_reply_keyboard_and_reply_to(bot: Bot, emulator: BotAPIEmulator) -> None:
    question = emulator.send_message(USER, "Вопрос")
    reply_markup = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Да")]])
    answer = await bot.send_message(
        USER, "Ответ", reply_markup=reply_markup, reply_to_message_id=question["message_id"]
    )

    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "Вопрос"
    assert answer.reply_markup is None
    assert emulator.reply_keyboard(USER) == {"keyboard": [[{"text": "Да"}]]}
    await bot.send_message(USER, "Убираю", reply_markup=ReplyKeyboardRemove())
    assert emulator.reply_keyboard(USER) is None


async def test_raw_clients_json_and_query(emulator: BotAPIEmulator) -> None:
    url = f"{emulator.base_url}/bot{TOKEN}"
    async with aiohttp.ClientSession() as http:
        markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
        async with http.post(
            f"{url}/SENDMESSAGE", json={"chat_id": USER, "text": "json", "reply_markup": markup}
        ) as response:
            body = await response.json()
        assert body["ok"] is True
        assert body["result"]["reply_markup"] == markup

        async with http.get(
            f"{url}/sendMessage", params={"chat_id": str(USER), "text": "123"}
        ) as response:
            body = await response.json()
        assert body["result"]["text"] == "123"  # a text that looks like JSON stays a string

        async with http.post(f"{url}/sendTelepathy", data={"chat_id": str(USER)}) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
    assert [call.method for call in emulator.calls] == [
        "sendMessage",
        "sendMessage",
        "sendTelepathy",
    ]
    assert emulator.calls[1].params == {"chat_id": USER, "text": "123"}


async def test_wait_for_next_message_and_marks(bot: Bot, emulator: BotAPIEmulator) -> None:
    await bot.send_message(USER, "до отметки")
    mark = emulator.mark()

    await bot.send_message(USER, "первое")
    await bot.send_message(USER, "второе")

    assert (await emulator.next_message(USER))["text"] == "первое"
    assert (await emulator.next_message(USER))["text"] == "второе"
    waiting = asyncio.create_task(emulator.next_message(USER, timeout=2))
    await bot.send_message(USER, "третье")
    assert (await waiting)["text"] == "третье"

    def is_send(call: Call) -> bool:
        return call.method == "sendMessage"

    assert (await emulator.wait_for(is_send, after=0)).params["text"] == "до отметки"
    assert (await emulator.wait_for(is_send)).params["text"] == "первое"
    assert (await emulator.wait_for(is_send, after=mark + 1)).params["text"] == "второе"

    with pytest.raises(TimeoutError, match="sendMessage") as caught:
        await emulator.wait_for(lambda call: call.method == "deleteMessage", timeout=0.05)
    assert "третье" in str(caught.value)


async def test_misc_methods(bot: Bot, emulator: BotAPIEmulator) -> None:
    commands = [BotCommand(command="start", description="Начать")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(
        [BotCommand(command="menu", description="Меню")],
        scope=BotCommandScopeChat(chat_id=USER),
    )
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [
        ("start", "Начать")
    ]
    assert [
        c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=USER))
    ] == ["menu"]
    assert emulator.my_commands() == [{"command": "start", "description": "Начать"}]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])

    chat = await bot.get_chat(USER)
    assert (chat.id, chat.type, chat.username) == (USER, "private", "anna")
    member = await bot.get_chat_member(USER, USER)
    assert isinstance(member, ChatMemberMember)
    emulator.chat(-100500, type="channel", title="Инфозона", username="infozona")
    emulator.set_member(-100500, USER, "administrator")
    assert (await bot.get_chat_member("@infozona", USER)).status == "administrator"
    assert (await bot.get_chat_member(-100500, USER + 1)).status == "left"

    assert await bot.set_chat_menu_button()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.set_webhook("https://example.invalid/hook")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()

    original = emulator.send_message(USER, "переслать меня")
    copied = await bot.copy_message(USER, USER, original["message_id"])
    assert emulator.message(USER, copied.message_id)["text"] == "переслать меня"
    forwarded = await bot.forward_message(USER, USER, original["message_id"])
    assert forwarded.forward_origin is not None
    assert forwarded.text == "переслать меня"
    assert await bot.send_chat_action(USER, "typing")
    assert await bot.close()
    assert await bot.log_out()


async def test_dispatcher_end_to_end(bot: Bot, emulator: BotAPIEmulator) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Привет!", reply_markup=keyboard(("Подписаться", "sub")))

    @router.callback_query(F.data == "sub")
    async def subscribe(callback: CallbackQuery) -> None:
        await callback.answer("Готово")
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("Вы подписаны")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    try:
        await emulator.wait_until_polling()
        emulator.mark()
        emulator.send_message(USER, "/start")
        greeting = await emulator.next_message(USER)
        assert greeting["text"] == "Привет!"

        callback_id = emulator.press_button(
            USER, greeting["message_id"], emulator.button_data(greeting, "Подпис")
        )
        assert (await emulator.answer_to(callback_id)).params["text"] == "Готово"
        edit = await emulator.wait_for(lambda call: call.method == "editMessageText")
        assert edit.ok
        assert emulator.last_message(USER)["text"] == "Вы подписаны"
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 2)


async def test_one_text_link_telegram_cannot_parse_refuses_the_whole_message(
    bot: Bot, emulator: BotAPIEmulator
) -> None:
    def link(url: str) -> list[MessageEntity]:
        return [MessageEntity(type="text_link", offset=0, length=6, url=url)]

    sent = await bot.send_message(USER, "ссылка", entities=link("https://example.com/a%20b"))
    for url, problem in (
        ("http://exa mple.com/a b", "Wrong HTTP URL"),
        ("https://localhost/", "Wrong HTTP URL"),
        ("http://example..com/", "Wrong HTTP URL"),
        ("ftp://example.com/", "Unsupported URL protocol"),
        ("http://example.com:70000/", "Wrong port number specified in the URL"),
    ):
        expected = f"entity URL '{url}' is invalid: {problem}"
        with pytest.raises(TelegramBadRequest, match=re.escape(expected)):
            await bot.send_message(USER, "ссылка", entities=link(url))
        with pytest.raises(TelegramBadRequest, match=re.escape(expected)):
            await bot.edit_message_text(
                "ссылка!", chat_id=USER, message_id=sent.message_id, entities=link(url)
            )
    assert [m["text"] for m in emulator.messages(USER)] == ["ссылка"]
