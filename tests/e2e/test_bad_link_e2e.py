"""A link Telegram can't parse no longer cancels a digest: the emulator refuses a whole
message over one such text link, as Telegram does, and the digest still reaches everyone."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from bot.app import build_bot
from bot.content.models import Frequency, Item, ItemKind, ItemStatus, MessagePart
from bot.delivery.transport import Outcome
from bot.storage.items import ItemRepository
from bot.telegram.transport import TelegramTransport
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import RunningBot, make_settings, onboard

BAD_URL = "http://exa mple.com/a b"


async def test_one_unparseable_link_leaves_every_digest_delivered(
    running_bot: RunningBot,
) -> None:
    readers = [running_bot.person(2101 + i, f"Читатель {i}") for i in range(3)]
    for reader in readers:
        await onboard(reader)
    items = ItemRepository(running_bot.engine)
    now = datetime.now(running_bot.settings.tz)
    approved = now - timedelta(days=1)
    cyrillic = await items.add(
        Item(0, ItemKind.MATERIAL, "Сборник практик", url="https://пример.рф/сборник",
             status=ItemStatus.APPROVED, approved_at=approved)
    )  # fmt: skip
    await items.add(
        Item(0, ItemKind.MATERIAL, "Методички по проектам", url="https://imc.example.ru/m",
             status=ItemStatus.APPROVED, approved_at=approved)
    )  # fmt: skip
    # Stored before links were checked the way Telegram parses them (old data): straight in.
    body = "Подробности на сайте школы."
    await items.add(
        Item(0, ItemKind.MATERIAL, "Новость со сломанной ссылкой", url=BAD_URL, body=body,
             body_entities=json.dumps([{"type": "text_link", "offset": 12, "length": 6,
                                        "url": BAD_URL}]),
             status=ItemStatus.APPROVED, approved_at=approved)
    )  # fmt: skip

    running_bot.emu.mark()
    outcome = await running_bot.services.publisher.digest(
        Frequency.WEEKLY, "digest:weekly:bad-link", now - timedelta(days=7), now
    )
    assert "recipients=3" in outcome
    running_bot.services.wake()
    for reader in readers:
        digest = await running_bot.emu.next_message(reader.id)
        for title in ("Сборник практик", "Методички по проектам", "Новость со сломанной ссылкой"):
            assert title in digest["text"]
        links = [e["url"] for e in digest.get("entities", []) if e["type"] == "text_link"]
        # Every title, the bad entry's too, opens its card in the bot.
        assert len(links) == 3
        assert all(link.startswith("https://t.me/infozona_test_bot?start=item_") for link in links)
    assert all(call.ok for call in running_bot.emu.calls_of("sendMessage"))
    # The card's link to the site works, the Cyrillic one in the form Telegram reads.
    opened = await readers[0].say_one(f"/start item_{cyrillic.id}")
    assert [e["url"] for e in opened["entities"] if e["type"] == "text_link"] == [
        "https://xn--e1afmkfd.xn--p1ai/%D1%81%D0%B1%D0%BE%D1%80%D0%BD%D0%B8%D0%BA"
    ]

    # The same entry as a post of its own (/materials): its text stays, its link goes.
    [card] = await readers[0].say("/materials")
    assert "Новость со сломанной ссылкой" in card["text"] and body in card["text"]
    assert all(e.get("url") != BAD_URL for e in card.get("entities", []))


async def test_a_message_refused_over_a_link_goes_out_without_it(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    # A digest composed before links were checked (or a link the check lets through, which
    # Telegram still refuses): the transport learns from Telegram's answer.
    settings = make_settings(tmp_path, telegram_api_base=emu.base_url)
    bot = build_bot(settings)
    try:
        transport = TelegramTransport(bot, rate=25)
        url = "https://school.example.ru/новость"
        part = MessagePart(
            "Новость школы и ещё одна",
            (
                {"type": "bold", "offset": 0, "length": 7},
                {"type": "text_link", "offset": 0, "length": 14, "url": url},
                {"type": "text_link", "offset": 17, "length": 7, "url": "https://imc.example.ru/"},
            ),
        )
        for chat in (3001, 3002):
            emu.user(chat)
        emu.fail_next(
            "sendMessage", status=400,
            description=f"Bad Request: entity URL '{url}' is invalid: Wrong HTTP URL",
        )  # fmt: skip
        first = await transport.send(3001, part)
        # Not lost: the engine tries this recipient again, as after any transient failure.
        assert first.outcome is Outcome.TRANSIENT and "refused link" in first.error
        again = await transport.send(3001, part)
        other = await transport.send(3002, part)
        assert again.outcome is Outcome.SENT and other.outcome is Outcome.SENT
        for chat in (3001, 3002):
            message = emu.last_message(chat)
            assert message["text"] == "Новость школы и ещё одна"
            assert [(e["type"], e.get("url")) for e in message["entities"]] == [
                ("bold", None),
                ("text_link", "https://imc.example.ru/"),
            ]
        # Another refusal is an ordinary failure.
        emu.fail_next("sendMessage", status=400, description="Bad Request: chat is deactivated")
        assert (await transport.send(3001, part)).outcome is Outcome.PERMANENT
    finally:
        await bot.session.close()
