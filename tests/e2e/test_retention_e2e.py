"""Delivery retention through the running bot: after an old post's deliveries are folded,
/stats shows the same «доставлено N из M», and /edit says its sent messages can no longer
be changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot import texts
from bot.services.publishing import post_keys
from bot.services.retention import RetentionService
from bot.storage.schema import campaigns, deliveries
from tests.e2e.test_edit_post_e2e import TEACHERS, _new_text, _published
from tests.support.harness import EDITOR_ID, RunningBot


async def test_stats_after_retention_shows_the_same_figures(running_bot: RunningBot) -> None:
    item = await _published(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    delivered = f"доставлено {len(TEACHERS)} из {len(TEACHERS)}"
    in_section = f"✓ {len(TEACHERS)} · ⛔ 0 · ⚠ 0 · ⏳ 0 из {len(TEACHERS)}"

    engine = running_bot.engine
    long_ago = datetime.now(UTC) - timedelta(days=100)
    async with engine.begin() as conn:  # the post went out 100 days ago
        await conn.execute(
            campaigns.update()
            .where(campaigns.c.key.in_(post_keys(item.id)))
            .values(created_at=long_ago, started_at=long_ago, finished_at=long_ago)
        )
    [stats] = await editor.say("/stats")
    assert delivered in stats["caption"]
    _, before = await editor.tap(stats, texts.STATS_SECTION_LABELS["campaigns"], expect="send")
    assert in_section in before["text"]

    result = await RetentionService(engine, 90).run()

    assert result.rows == len(TEACHERS)
    async with engine.connect() as conn:
        left = (await conn.execute(sa.select(sa.func.count()).select_from(deliveries))).scalar()
    assert left == 0
    [stats_after] = await editor.say("/stats")
    assert stats_after["caption"] == stats["caption"]
    _, after = await editor.tap(
        stats_after, texts.STATS_SECTION_LABELS["campaigns"], expect="send"
    )
    assert after["text"] == before["text"]
    assert delivered in stats_after["caption"]

    # The post's messages can't be changed any more: the editor is told so, in Russian.
    question = await _new_text(editor, item)
    assert "изменить уже нельзя" in question["text"]
    assert "обновлён в боте" in question["text"]
    assert not running_bot.emu.buttons(question)
