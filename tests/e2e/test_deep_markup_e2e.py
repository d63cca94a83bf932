"""A feed entry nested thousands of tags deep: the editors' queue, /materials and /search
still show it and the items around it (it used to overflow Python's recursion limit)."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta

from bot.content.feeds import FeedKind, parse_feed
from bot.content.models import Item, ItemKind, ItemStatus
from bot.storage.feeds import FeedRepository
from bot.storage.items import ItemRepository
from tests.support.harness import EDITOR_ID, RunningBot, onboard

DEEP = 10_000


def hostile_rss() -> bytes:
    """One entry of a school site whose editor pasted formatting inside formatting."""
    body = "<b><i>" * DEEP + "Глубоко вложенный текст" + "</i></b>" * DEEP
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Школа №5</title><link>https://school5.example.ru/</link>"
        "<item><guid>deep-1</guid><title>Вложенная новость</title>"
        "<link>https://school5.example.ru/news/1</link>"
        f"<description>{html.escape(body)}</description></item></channel></rss>"
    ).encode()


async def test_a_deeply_nested_feed_entry_leaves_the_queue_and_shelves_usable(
    running_bot: RunningBot,
) -> None:
    feeds = FeedRepository(running_bot.engine)
    items = ItemRepository(running_bot.engine)
    feed = await feeds.add("https://school5.example.ru/rss", FeedKind.MATERIAL, title="Школа №5")
    assert feed is not None
    parsed = parse_feed(hostile_rss(), url=feed.url)
    await feeds.record_fetch(
        feed, parsed.entries, now=datetime.now(UTC), etag=None, last_modified=None
    )
    for title in ("Вторая запись очереди", "Третья запись очереди"):
        await items.add(Item(0, ItemKind.MATERIAL, title, body="Обычный текст.",
                             status=ItemStatus.PENDING))  # fmt: skip
    # Stored before the renderer capped nesting: ten thousand entities over one span.
    old_body = "Старый глубокий материал"
    await items.add(
        Item(0, ItemKind.MATERIAL, "Старый инновационный материал", body=old_body,
             body_entities=json.dumps([{"type": "bold", "offset": 0, "length": len(old_body)}]
                                      * DEEP),
             status=ItemStatus.APPROVED, approved_at=datetime.now(UTC) - timedelta(days=2))
    )  # fmt: skip
    await items.add(
        Item(0, ItemKind.MATERIAL, "Свежий инновационный сборник", body="Опыт школ.",
             status=ItemStatus.APPROVED, approved_at=datetime.now(UTC) - timedelta(days=1))
    )  # fmt: skip

    editor = running_bot.person(EDITOR_ID, "Редактор")
    card = await editor.say_one("/queue")
    assert "Очередь: 1 из 3" in card["text"]
    assert "Вложенная новость" in card["text"] and "Глубоко вложенный текст" in card["text"]
    assert len(card.get("entities", [])) < 30
    _, card = await editor.tap(card, "▸")
    assert "Очередь: 2 из 3" in card["text"] and "Вторая запись очереди" in card["text"]
    _, card = await editor.tap(card, "▸")
    assert "Очередь: 3 из 3" in card["text"] and "Третья запись очереди" in card["text"]
    _, card = await editor.tap(card, "◂")
    _, card = await editor.tap(card, "◂")
    assert "Очередь: 1 из 3" in card["text"] and "Глубоко вложенный текст" in card["text"]

    teacher = running_bot.person(1701, "Ольга")
    await onboard(teacher)
    [shelf] = await teacher.say("/materials")
    assert shelf["text"].startswith("📚 Материал 1 из 2")
    assert "Свежий инновационный сборник" in shelf["text"]
    _, shelf = await teacher.tap(shelf, "Ещё")
    assert "Материал 2 из 2" in shelf["text"] and old_body in shelf["text"]
    assert len(shelf.get("entities", [])) < 30
    [found] = await teacher.say("/search инновационный")
    assert "«инновационный»: 1 из 2" in found["text"]
    _, found = await teacher.tap(found, "Ещё")
    assert "«инновационный»: 2 из 2" in found["text"]
    assert "Старый инновационный материал" in found["text"]
