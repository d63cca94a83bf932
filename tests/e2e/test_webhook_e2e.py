"""Webhook mode: the emulator pushes updates as Telegram does to `python -m bot web`'s app;
`python -m bot worker` sends. Roles: a web worker starts no sender and no timetable."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Dispatcher
from aiohttp import ClientSession, web

from bot.app import Background, build_bot, run_worker
from bot.delivery.engine import Sender
from bot.services.status import status_report
from bot.storage.db import create_engine, migrate
from bot.storage.subscribers import SubscriberRepository
from bot.storage.timetable import LAST_POLL_AT, RuntimeStatusRepository
from bot.storage.updates import HandledUpdates
from bot.telegram.middlewares import PollHeartbeat
from bot.telegram.webhook import OnceOnly, build_web_app
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import EDITOR_ID, make_settings, onboard, subscribe
from tests.support.waiting import until
from tests.support.webhooks import SECRET, web_running

TITLE = "Семинар переносится"
BODY = "Семинар для координаторов пройдёт в ауд. 12."


async def test_an_editor_publishes_through_the_webhook_and_the_worker_sends(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    async with web_running(emu, tmp_path) as web:
        # Roles: the web worker handles updates only.
        [worker] = web.workers
        assert worker.dp["background"].running() == set()
        assert emu.webhook is not None and emu.webhook["secret_token"] == SECRET
        assert "message" in emu.webhook["allowed_updates"]

        teacher = web.person(2101, "Учитель")
        await subscribe(teacher, topics_off=(), frequency="Раз в неделю")
        editor = web.person(EDITOR_ID, "Редактор")
        [prompt] = await editor.say("/new")
        await editor.tap(prompt, "Объявление")
        emu.mark()
        emu.send_message(EDITOR_ID, f"{TITLE}\n\n{BODY}")
        await emu.next_message(EDITOR_ID)  # «Понял: …»
        audience = await emu.next_message(EDITOR_ID)
        _, audience = await editor.tap(audience, "Всем")
        _, when = await editor.tap(audience, "Готово")
        emu.mark()
        emu.press(EDITOR_ID, when, emu.button_data(when, "Сейчас"))
        preview = await emu.next_message(EDITOR_ID)
        summary = await emu.next_message(EDITOR_ID)
        assert preview["text"] == f"📢 {TITLE}\n\n{BODY}"

        # The worker (sender and timetable, no updates) sends what the web worker published.
        background = Background(
            web.settings, web.engine, sender=Sender(web.settings, web.engine, idle_poll=0.1)
        )
        stop = asyncio.Event()
        sending = asyncio.create_task(
            run_worker(web.settings, web.engine, background=background, stop=stop)
        )
        try:
            emu.mark()
            emu.press(EDITOR_ID, summary, emu.button_data(summary, "Опубликовать"))
            post = await emu.next_message(teacher.id)
            assert post["text"] == preview["text"]
            assert background.running() == {"sender", "timetable"}
            assert not emu.calls_of("getUpdates")  # nobody polls: the webhook is on
        finally:
            stop.set()
            await sending
        assert background.running() == set()

    # Every update pushed was answered 200 the first time, and handled exactly once.
    assert emu.pushes and all(status == 200 for _, status in emu.pushes)
    counts = web.handled_ids()
    assert set(counts.values()) == {1}
    assert sorted(counts) == sorted(update_id for update_id, _ in emu.pushes)


def _start(update_id: int, chat_id: int, name: str) -> dict[str, Any]:
    """A /start as Telegram would post it, for requests made by hand."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1, "date": 1764600000, "text": "/start",
            "chat": {"id": chat_id, "type": "private", "first_name": name},
            "from": {"id": chat_id, "is_bot": False, "first_name": name},
        },
    }  # fmt: skip


async def test_a_request_without_the_secret_is_refused_and_not_handled(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    async with web_running(emu, tmp_path, webhook=False) as web:
        [worker] = web.workers
        url = worker.address + web.settings.webhook_path()
        update = _start(77, 2301, "Чужой")
        async with ClientSession() as session:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with session.post(url, json=update, headers=headers) as answer:
                    assert answer.status == 401
            assert not web.handled
            assert not emu.calls_of("sendMessage")
            # The same update with the secret is handled: the greeting comes in the answer.
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            async with session.post(url, json=update, headers=headers) as answer:
                assert answer.status == 200
                reply = await emu.read_webhook_answer(answer)
        assert [u.update_id for _, u in web.handled] == [77]
        assert reply["method"] == "sendMessage" and reply["chat_id"] == 2301
        assert "«Инфозона»" in reply["text"]


async def test_a_re_sent_update_is_answered_and_handled_once(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    async with web_running(emu, tmp_path) as web:
        person = web.person(2401)
        await person.say("/start")
        pushed, _ = await emu.wait_for_push(status=200)
        update = next(u for u in emu.updates if u["update_id"] == pushed)
        url = web.workers[0].address + web.settings.webhook_path()
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        sent = len(emu.calls_of("sendMessage", 2401))
        # Remembered once the answer is written, just after the greeting it carried arrived.
        await until(web.remembered, what="the update remembered")
        async with ClientSession() as session:
            for _ in range(2):  # Telegram re-sends what it got no 200 for
                async with session.post(url, json=update, headers=headers) as answer:
                    assert answer.status == 200
                    assert await emu.read_webhook_answer(answer) == {}  # no second greeting
        assert web.handled_ids()[pushed] == 1
        assert len(emu.calls_of("sendMessage", 2401)) == sent
        assert await web.remembered() == [pushed]


async def test_a_reply_whose_answer_never_reached_telegram_comes_once_with_the_copy(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    """As a worker killed before its answer: the greeting is in the answer, so nothing was sent,
    and the update is not remembered; the re-sent copy greets, once."""
    async with web_running(emu, tmp_path, webhook=False) as web:
        [worker] = web.workers
        update = _start(78, 2302, "Вера")
        body = json.dumps(update).encode()
        host, port = worker.address.removeprefix("http://").split(":")
        _reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"POST {web.settings.webhook_path()} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.transport.abort()  # gone before the answer
        await web.wait_handled(1)
        url = worker.address + web.settings.webhook_path()
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        answers = []
        async with ClientSession() as session:
            for _ in range(2):  # the copy; then one more once the copy's answer is remembered
                async with session.post(url, json=update, headers=headers) as answer:
                    assert answer.status == 200
                    answers.append(await emu.read_webhook_answer(answer))
                await until(web.remembered, what="the update remembered")
    greeting, again = answers
    assert greeting["method"] == "sendMessage" and "«Инфозона»" in greeting["text"]
    assert again == {}
    assert web.handled_ids()[78] == 2  # the first handling's reply was never sent
    assert not emu.calls_of("sendMessage", 2302)


async def test_an_update_a_dead_worker_did_not_answer_is_pushed_again(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    emu.push_retry_delay = 0.02
    async with web_running(emu, tmp_path) as web:
        [first] = web.workers
        url = first.address + web.settings.webhook_path()
        await web.stop_worker(first)  # the only worker is down: Telegram gets no answer
        person = web.person(2501)
        person.emu.mark()
        emu.send_message(person.id, "/start")
        await emu.wait_for_push(status=0)
        assert not web.handled
        # A worker comes back on the same address; the update arrives, once.
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        await web.start_worker(web.settings.model_copy(update={"web_port": port}))
        greeting = await emu.next_message(person.id)
        assert "Согласен" in str(emu.buttons(greeting))
        await emu.wait_for_push(status=200)
        statuses = [status for _, status in emu.pushes]
        assert statuses[0] == 0 and statuses[-1] == 200
        assert list(web.handled_ids().values()) == [1]


async def test_healthz_answers_for_the_balancer(emu: BotAPIEmulator, tmp_path: Path) -> None:
    async with web_running(emu, tmp_path, webhook=False) as web:
        url = web.workers[0].address + "/healthz"
        async with ClientSession() as session, session.get(url) as answer:
            assert answer.status == 200
            assert await answer.text() == "ok"


async def test_healthz_is_not_ok_when_the_database_does_not_answer(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, telegram_api_base=emu.base_url)
    # Nothing listens on port 1: the database is unreachable.
    dead = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    bot = build_bot(settings)
    once = OnceOnly(HandledUpdates(dead))
    app = build_web_app(Dispatcher(), bot, dead, path="/webhook", secret=SECRET, once=once)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        healthz = f"http://{host}:{port}/healthz"
        async with ClientSession() as session, session.get(healthz) as answer:
            assert answer.status == 503
    finally:
        await runner.cleanup()
        await dead.dispose()


async def test_subscribers_onboarded_at_once_through_the_webhook(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    async with web_running(emu, tmp_path) as web:
        people = [web.person(2600 + n, f"Педагог {n}") for n in range(5)]
        await asyncio.gather(*(onboard(person) for person in people))
        subscribers = SubscriberRepository(web.engine)
        for person in people:
            assert await subscribers.get(person.id) is not None
    assert set(web.handled_ids().values()) == {1}


async def test_status_after_moving_from_run_to_web_and_worker_reports_no_stale_poll(
    tmp_path: Path,
) -> None:
    """The poll time an earlier `run` left in the database would read as «опрос обновлений
    стоит» forever once a worker (which polls nothing) keeps the heartbeat going."""
    settings = make_settings(tmp_path)
    engine = create_engine(settings.database_url)
    await migrate(engine)
    try:
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        await RuntimeStatusRepository(engine).put(
            LAST_POLL_AT, an_hour_ago.isoformat(), an_hour_ago
        )
        now = datetime.now(UTC)
        polling = Background(settings, engine, poll_heartbeat=PollHeartbeat())
        await polling.timetable.heartbeat(now)  # a `run` whose polling has stopped
        assert "poll_stale" in [p.code for p in (await status_report(settings, engine, now)).found]

        worker = Background(settings, engine)
        await worker.timetable.heartbeat(now)
        report = await status_report(settings, engine, now)
        assert [p.code for p in report.found] == []
        assert report.facts["last_poll_at"] is None
    finally:
        await engine.dispose()
