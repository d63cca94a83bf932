"""The emulator's webhook push mode behaves as Telegram does: the secret header, one update per
chat in flight, what was not answered 200 sent again before that chat's later updates."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from tests.support.emulator import BotAPIEmulator

TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ac"


class Receiver:
    """A webhook endpoint that records what comes, and answers as told."""

    def __init__(self) -> None:
        self.received: list[tuple[int, int, str | None]] = []  # (update_id, chat, secret)
        self.fail: dict[int, int] = {}  # update_id → how many times to answer 500
        self.answers: dict[int, web.Response] = {}  # update_id → the answer 200 to give
        self.in_flight: dict[int, int] = {}
        self.most_in_flight: dict[int, int] = {}
        self.gate = asyncio.Event()
        self.gate.set()
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        update = json.loads(await request.read())
        chat = update["message"]["chat"]["id"]
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self.in_flight[chat] = self.in_flight.get(chat, 0) + 1
        self.changed.set()
        self.most_in_flight[chat] = max(self.most_in_flight.get(chat, 0), self.in_flight[chat])
        try:
            await self.gate.wait()
            self.received.append((update["update_id"], chat, secret))
            self.changed.set()
            if self.fail.get(update["update_id"], 0) > 0:
                self.fail[update["update_id"]] -= 1
                return web.Response(status=500)
            return self.answers.pop(update["update_id"], None) or web.Response(text="ok")
        finally:
            self.in_flight[chat] -= 1

    async def wait_in_flight(self, count: int) -> None:
        async with asyncio.timeout(5):
            while sum(self.in_flight.values()) < count:
                self.changed.clear()
                await self.changed.wait()

    async def wait(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.received) < count:
                self.changed.clear()
                await self.changed.wait()


@asynccontextmanager
async def receiving(emu: BotAPIEmulator, **webhook: Any) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        emu._set_webhook({"url": f"http://{host}:{port}/hook", **webhook})
        yield receiver
    finally:
        emu.stop_pushing()
        await runner.cleanup()


async def test_updates_come_with_the_secret_in_order_per_chat(emu: BotAPIEmulator) -> None:
    for user in (1, 2):
        emu.user(user)
    async with receiving(emu, secret_token="s3cret") as receiver:
        receiver.gate.clear()  # the first update of each chat is held by the endpoint
        for n in range(3):
            for user in (1, 2):
                emu.send_message(user, f"сообщение {n}")
        await receiver.wait_in_flight(2)
        receiver.gate.set()
        await emu.wait_pushes(6)
    assert {secret for *_, secret in receiver.received} == {"s3cret"}
    for chat in (1, 2):
        texts = [u for u, c, _ in receiver.received if c == chat]
        assert texts == sorted(texts)
        assert receiver.most_in_flight[chat] == 1
    assert emu._get_webhook_info({})["pending_update_count"] == 0


async def test_what_was_not_answered_200_comes_again_before_the_chat_s_next(
    emu: BotAPIEmulator,
) -> None:
    emu.user(1)
    emu.push_retry_delay = 0.01
    first = emu.send_message(1, "первое")
    emu.send_message(1, "второе")
    first_id = emu.updates[-2]["update_id"]
    second_id = emu.updates[-1]["update_id"]
    assert first["text"] == "первое"
    async with receiving(emu) as receiver:
        receiver.fail[first_id] = 2
        await emu.wait_pushes(4)
    assert [u for u, *_ in receiver.received] == [first_id, first_id, first_id, second_id]
    assert [secret for *_, secret in receiver.received] == [None] * 4
    assert [status for _, status in emu.pushes] == [500, 500, 200, 200]
    info = emu._get_webhook_info({})
    assert "500" in info["last_error_message"]


async def test_a_method_in_the_answer_is_performed_and_not_when_the_answer_is_not_200(
    emu: BotAPIEmulator,
) -> None:
    """The bot may answer an update with a method (JSON, or a form as aiogram writes it):
    Telegram performs it, and the bot never learns its result."""
    emu.user(5, first_name="Анна")
    async with receiving(emu) as receiver:
        receiver.answers[1] = web.json_response(
            {"method": "sendMessage", "chat_id": 5, "text": "Здравствуйте!"}
        )
        form = aiohttp.FormData(default_to_multipart=True)
        form.add_field("method", "sendMessage")
        form.add_field("chat_id", "5")
        form.add_field("reply_markup", json.dumps({"inline_keyboard": [[
            {"text": "Дальше", "callback_data": "next"}]]}))  # fmt: skip
        form.add_field("text", "Вот что дальше")
        receiver.answers[2] = web.Response(body=form())
        receiver.fail[3] = 1
        receiver.answers[3] = web.Response(
            body=aiohttp.FormData({"method": "sendMessage", "chat_id": "5", "text": "после 500"})()
        )
        for text in ("привет", "что дальше?", "третье"):
            emu.send_message(5, text)
        await emu.wait_pushes(4)
    first, second, third = emu.messages(5)[-3:]
    assert first["text"] == "Здравствуйте!" and "reply_markup" not in first
    assert second["text"] == "Вот что дальше"
    assert emu.buttons(second) == [("Дальше", "next")]
    assert third["text"] == "после 500"  # the answer 200 to the copy, not the 500
    assert [call.in_answer_to for call in emu.calls_of("sendMessage", 5)] == [1, 2, 3]
