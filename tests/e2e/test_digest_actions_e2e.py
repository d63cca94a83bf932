"""A digest you can act on, through the running bot: its title gives its own week, a feed item's
picture shows, an entry's title opens its card, «Напомнить» sets a reminder, «Пауза» pauses
(no next digest) and the same message undoes it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import texts
from bot.content.models import Item, ItemKind, ItemStatus, OrgKind, Role, SubscriberStatus
from bot.services.timetable import Timetable, weekly_slot
from bot.storage.campaigns import CampaignRepository
from bot.storage.items import ItemRepository
from bot.storage.reminders import ReminderRepository
from tests.support.harness import Person, RunningBot, onboard

MSK = ZoneInfo("Europe/Moscow")
BOT_LINK = "https://t.me/infozona_test_bot?start="
PICTURE = "https://school7.example/upload/project-week.jpg"


def links(message: dict[str, Any]) -> dict[str, str]:
    """The message's text links: the text each covers → its URL."""
    units = message["text"].encode("utf-16-le")
    return {
        units[e["offset"] * 2 : (e["offset"] + e["length"]) * 2].decode("utf-16-le"): e["url"]
        for e in message.get("entities", [])
        if e["type"] == "text_link"
    }


async def add_content(items: ItemRepository, now: datetime) -> tuple[Item, Item, Item]:
    material = await items.add(
        Item(0, ItemKind.MATERIAL, "Как провести неделю проектов", status=ItemStatus.APPROVED,
             approved_at=now - timedelta(days=1), url="https://school7.example/news/1",
             image_url=PICTURE, body="Опыт школы № 7: план недели и листы самооценки.")
    )  # fmt: skip
    seminar_day = (now + timedelta(days=3)).date()
    seminar = await items.add(
        Item(0, ItemKind.EVENT, "Семинар для координаторов", status=ItemStatus.APPROVED,
             approved_at=now - timedelta(days=1), place="ИМЦ, ауд. 12",
             starts_at=datetime.combine(seminar_day, time(10, 0), MSK))
    )  # fmt: skip
    # An activity of the annual plan known only by its days, beginning within the fortnight;
    # a year-long one is left out (it would be in every digest).
    today = now.date()
    plan = await items.add(
        Item(0, ItemKind.EVENT, "Консультации по оформлению методических материалов",
             status=ItemStatus.APPROVED, approved_at=now - timedelta(days=30),
             source_key="plan:2026-2027:7", period_start=today + timedelta(days=5),
             period_end=today + timedelta(days=12), timing_text="Вторая неделя месяца",
             audience_text="педагоги ОУ")
    )  # fmt: skip
    await items.add(
        Item(0, ItemKind.EVENT, "Сопровождение площадок", status=ItemStatus.APPROVED,
             approved_at=now - timedelta(days=30), source_key="plan:2026-2027:1",
             period_start=date(today.year - 1, 9, 1), period_end=date(today.year + 1, 6, 30),
             timing_text="В течение года")
    )  # fmt: skip
    return material, seminar, plan


async def test_a_digest_entry_opens_its_card_reminds_and_pauses_until_undone(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    teacher = running_bot.person(811, "Мария")
    colleague = running_bot.person(812, "Олег")
    await onboard(teacher)
    await onboard(colleague)
    now = datetime.now(MSK)
    material, seminar, plan = await add_content(ItemRepository(running_bot.engine), now)
    timetable = Timetable(
        running_bot.settings, running_bot.services, poll_feeds=False, clock=lambda: now
    )

    # Three weekly slots, each looking back from the same real moment (the outbox sends what
    # is due by the real clock): the slot is the week `when` falls in.
    first_week, next_week, week_after = (now - timedelta(days=d) for d in (14, 7, 0))
    emu.mark()
    await timetable.weekly_digest(first_week)
    digest = await emu.next_message(teacher.id)
    text = digest["text"]
    own_week = texts.day_span(now.date(), now.date() + timedelta(days=6))
    assert text.startswith(f"Дайджест «Инфозоны» · {own_week}\n")
    assert "Семинар для координаторов" in text
    assert "🗓 Скоро по плану ИМЦ" in text and "Консультации по оформлению" in text
    assert "Сопровождение площадок" not in text
    # Every title opens its entry in the bot.
    opened = links(digest)
    assert opened["Как провести неделю проектов"] == f"{BOT_LINK}item_{material.id}"
    assert opened["Семинар для координаторов"] == f"{BOT_LINK}item_{seminar.id}"
    assert opened["Консультации по оформлению методических материалов"] == (
        f"{BOT_LINK}item_{plan.id}"
    )
    # The feed item's picture shows as the message's large preview.
    preview = digest["link_preview_options"]
    assert preview["url"] == PICTURE and preview["is_disabled"] is False
    assert "1 пункт плана ИМЦ" in text
    buttons = [label for label, _ in emu.buttons(digest)]
    assert buttons == [
        "⏰ Напомнить: Семинар для координаторов",
        "⚙️ Настройки",
        "⏸ Пауза",
    ]

    # A tap on a title: Telegram sends «/start item_<id>», the card opens.
    payload = opened["Семинар для координаторов"].removeprefix(BOT_LINK)
    card = await teacher.say_one(f"/start {payload}")
    assert card["text"].startswith("📅 Семинар для координаторов")
    assert "📍 ИМЦ, ауд. 12" in card["text"]
    assert [label for label, _ in emu.buttons(card)] == [
        "⏰ Напомнить: Семинар для координаторов",
        "📅 В календарь",
    ]
    plan_card = await teacher.say_one(f"/start item_{plan.id}")
    assert "🗓 Вторая неделя месяца" in plan_card["text"]
    assert "Для: педагоги ОУ" in plan_card["text"]
    material_card = await teacher.say_one(f"/start item_{material.id}")
    assert "Опыт школы № 7" in material_card["text"]
    assert "👍 Полезно" in [label for label, _ in emu.buttons(material_card)]
    # Forwarded to someone not subscribed: the card opens, with a way to subscribe.
    stranger = running_bot.person(813, "Гость")
    shared = await stranger.say_one(f"/start item_{seminar.id}")
    assert shared["text"].startswith("📅 Семинар для координаторов")
    assert shared["text"].endswith(texts.ITEM_CARD_SUBSCRIBE)
    assert await running_bot.subscribers.get(stranger.id) is None
    gone = await teacher.say_one("/start item_999999")
    assert gone["text"] == texts.ITEM_GONE
    still = await running_bot.subscribers.get(teacher.id)
    assert still is not None and still.source is None  # a card's link is not a subscription

    # «Напомнить» under the digest sets the reminder, and the button shows it is set.
    answer, digest = await teacher.tap(digest, "Напомнить")
    assert answer.params["text"].startswith("Напомню ")
    reminders = ReminderRepository(running_bot.engine)
    assert await reminders.count_for(seminar.id) == 1
    assert emu.buttons(digest)[0][0] == "✅ Напомню: Семинар для координаторов"
    # The same event from its card: already set.
    again, _ = await teacher.tap(card, "Напомнить")
    assert again.params["text"].startswith("Уже напомню")
    assert await reminders.count_for(seminar.id) == 1

    # «Настройки» opens them in a message of their own; the digest stays.
    _, settings = await teacher.tap(digest, "Настройки", expect="send")
    assert any(label.startswith("Дайджест: ") for label, _ in emu.buttons(settings))
    assert emu.message(teacher.id, digest["message_id"])["text"] == text

    # «Пауза» pauses; the same message now offers to undo it.
    answer, digest = await teacher.tap(digest, "Пауза")
    assert answer.params["text"] == texts.DIGEST_PAUSED
    assert [label for label, _ in emu.buttons(digest)] == [
        "✅ Напомню: Семинар для координаторов",  # the reminder stays set
        "⚙️ Настройки",
        "▶️ Возобновить рассылку",
    ]
    paused = await running_bot.subscribers.get(teacher.id)
    assert paused is not None and paused.status is SubscriberStatus.PAUSED

    # The next week's digest goes to the colleague only.
    campaigns = CampaignRepository(running_bot.engine)
    on_screen = len(emu.messages(teacher.id))
    emu.mark()
    await timetable.weekly_digest(next_week)
    assert "Семинар для координаторов" in (await emu.next_message(colleague.id))["text"]
    second = await campaigns.get_by_key(weekly_slot(next_week))
    assert second is not None and second.total == 1  # the colleague; nothing for Мария
    assert len(emu.messages(teacher.id)) == on_screen

    # Undo from the same message: the week after, her digest comes again.
    answer, digest = await teacher.tap(digest, "Возобновить")
    assert answer.params["text"] == texts.DIGEST_RESUMED
    assert [label for label, _ in emu.buttons(digest)][-1] == "⏸ Пауза"
    emu.mark()
    await timetable.weekly_digest(week_after)
    third = await emu.next_message(teacher.id)
    assert third["text"].startswith("Дайджест «Инфозоны»")


async def subscriber(running_bot: RunningBot, chat_id: int, role: Role, org: OrgKind) -> Person:
    """Someone already subscribed (onboarding is tested on its own)."""
    person = running_bot.person(chat_id)
    repo = running_bot.subscribers
    await repo.register(chat_id, name=f"u{chat_id}", username=None, source=None)
    await repo.set_role(chat_id, role)
    await repo.set_org_kind(chat_id, org)
    await repo.mark_onboarded(chat_id)
    return person


async def test_an_educator_and_a_head_each_get_the_plan_rows_for_them_and_open_them(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    educator = await subscriber(running_bot, 821, Role.PRESCHOOL, OrgKind.KINDERGARTEN)
    head = await subscriber(running_bot, 822, Role.HEAD, OrgKind.SCHOOL)
    now = datetime.now(MSK)
    today = now.date()
    items = ItemRepository(running_bot.engine)

    async def plan_row(number: int, title: str, **audience: Any) -> Item:
        return await items.add(
            Item(0, ItemKind.EVENT, title, status=ItemStatus.APPROVED,
                 approved_at=now - timedelta(days=30), source_key=f"plan:2026-2027:{number}",
                 period_start=today + timedelta(days=2), period_end=today + timedelta(days=9),
                 **audience)
        )  # fmt: skip

    preschool = await plan_row(
        1, "Семинар для воспитателей ДОО", audience_orgs=frozenset({OrgKind.KINDERGARTEN})
    )
    heads = await plan_row(2, "Совещание руководителей", audience_roles=frozenset({Role.HEAD}))
    timetable = Timetable(
        running_bot.settings, running_bot.services, poll_feeds=False, clock=lambda: now
    )
    emu.mark()
    await timetable.weekly_digest(now)
    digests = {person.id: await emu.next_message(person.id) for person in (educator, head)}
    for person, mine, other in ((educator, preschool, heads), (head, heads, preschool)):
        digest = digests[person.id]
        assert mine.title in digest["text"] and other.title not in digest["text"]
        assert "В выпуске: 1 пункт плана ИМЦ." in digest["text"]
        # No dated event: no «Напомнить», only the last row.
        assert [label for label, _ in emu.buttons(digest)] == ["⚙️ Настройки", "⏸ Пауза"]
        link = links(digest)[mine.title]
        card = await person.say_one("/start " + link.removeprefix(BOT_LINK))
        assert card["text"].startswith(f"📅 {mine.title}")
        # Nothing to remind of without a date (a calendar file of its days, where it has them).
        assert all("Напомнить" not in label for label, _ in emu.buttons(card))
