"""A web worker that dies behind the balancer (nginx with `proxy_next_upstream error timeout`):
an update it took and never answered is answered 502, Telegram sends it again and the next
worker handles it; once it is gone, its connections are refused and its share goes to the next
worker unnoticed. The user gets one answer to each message."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.emulator import BotAPIEmulator
from tests.support.webhooks import Balancer, web_running


async def _dies_with_the_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    # A worker killed in the middle of an update: it took the request and never answered.
    await reader.readuntil(b"\r\n\r\n")
    writer.transport.abort()


async def test_a_worker_dying_behind_the_balancer_leaves_each_message_answered_once(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    dying = await asyncio.start_server(_dies_with_the_request, "127.0.0.1", 0)
    host, port = dying.sockets[0].getsockname()[:2]
    async with web_running(emu, tmp_path, webhook=False) as web:
        [worker] = web.workers
        balancer = Balancer([f"http://{host}:{port}", worker.address])
        await balancer.start()
        try:
            await web.set_webhook(balancer.address + web.settings.webhook_path())
            emu.user(2301, first_name="Анна")
            emu.mark()
            emu.send_message(2301, "/start")  # to the dying one first: 502, sent again
            greeting = await emu.next_message(2301, timeout=20)
            emu.send_message(2301, "что дальше?")  # the dying one's turn again
            first_answer = await emu.next_message(2301, timeout=20)
            dying.close()  # gone: its port refuses connections
            await dying.wait_closed()
            emu.send_message(2301, "что дальше?")  # refused there, passed to the worker
            second_answer = await emu.next_message(2301, timeout=20)
            await emu.wait_pushes(3, status=200, timeout=20)
        finally:
            emu.stop_pushing()
            await balancer.stop()
    assert "«Инфозона»" in greeting["text"]
    assert first_answer["text"] == second_answer["text"]
    assert len(emu.messages(2301)) == 3  # one answer each, none twice
    assert [status for _, status in emu.pushes] == [502, 200, 502, 200, 200]
    assert (balancer.failed, balancer.skipped) == (2, 1)
