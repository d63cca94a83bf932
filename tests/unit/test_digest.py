"""The digest's domain rules, message packing and Russian rendering (no database)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.utils.formatting import sizeof

from bot import texts
from bot.content.digest import (
    MESSAGE_LIMIT,
    DigestContent,
    DigestGroup,
    DigestPool,
    Period,
    daily_period,
    digest_period,
    join_blocks,
    pack_blocks,
    select_content,
    truncate_part,
    utf16_len,
    weekly_period,
)
from bot.content.models import (
    Frequency,
    Item,
    ItemKind,
    ItemStatus,
    MessagePart,
    OrgKind,
    Role,
    Topic,
)

MSK = ZoneInfo("Europe/Moscow")
# Monday 30 November 2026, 09:00: the weekly run covering 23–29 November.
RUN = datetime(2026, 11, 30, 9, 0, tzinfo=MSK)
WEEK = weekly_period(RUN)
EVERYTHING = frozenset(Topic)


def material(item_id: int, days_ago: float = 1, **fields: object) -> Item:
    values: dict[str, object] = {
        "title": f"Материал {item_id}",
        "status": ItemStatus.APPROVED,
        "approved_at": RUN - timedelta(days=days_ago),
    }
    values.update(fields)
    return Item(item_id, ItemKind.MATERIAL, **values)  # type: ignore[arg-type]


def event(item_id: int, days_ahead: float = 3, **fields: object) -> Item:
    values: dict[str, object] = {
        "title": f"Мероприятие {item_id}",
        "status": ItemStatus.APPROVED,
        "starts_at": RUN + timedelta(days=days_ahead),
    }
    values.update(fields)
    return Item(item_id, ItemKind.EVENT, **values)  # type: ignore[arg-type]


def case(item_id: int, days_ago: float = 1, **fields: object) -> Item:
    values: dict[str, object] = {
        "title": f"Кейс {item_id}",
        "status": ItemStatus.APPROVED,
        "approved_at": RUN - timedelta(days=days_ago),
    }
    values.update(fields)
    return Item(item_id, ItemKind.CASE, **values)  # type: ignore[arg-type]


def group(
    topics: frozenset[Topic] = EVERYTHING,
    role: Role | None = Role.TEACHER,
    org_kind: OrgKind | None = OrgKind.SCHOOL,
    frequency: Frequency = Frequency.WEEKLY,
) -> DigestGroup:
    return DigestGroup.of(frequency, topics, role, org_kind)


def ids(items: tuple[Item, ...]) -> list[int]:
    return [i.id for i in items]


# --- periods -------------------------------------------------------------------------------------


def test_weekly_covers_the_seven_days_before_the_run() -> None:
    assert WEEK.start == datetime(2026, 11, 23, 9, 0, tzinfo=MSK)
    assert WEEK.end == RUN
    assert digest_period(Frequency.WEEKLY, RUN) == WEEK


def test_daily_covers_since_the_previous_working_day_run() -> None:
    friday = datetime(2026, 11, 27, 8, 30, tzinfo=MSK)
    assert daily_period(friday).start == datetime(2026, 11, 26, 8, 30, tzinfo=MSK)
    monday = datetime(2026, 11, 30, 8, 30, tzinfo=MSK)
    assert daily_period(monday) == Period(friday, monday)  # the weekend too
    assert digest_period(Frequency.DAILY, monday).end - friday == timedelta(days=3)
    every_day = frozenset(range(7))
    assert daily_period(monday, every_day).start == monday - timedelta(days=1)


# --- what goes in --------------------------------------------------------------------------------


def test_pool_applies_the_rules_for_each_kind() -> None:
    items = [
        material(1, days_ago=1),
        material(2, days_ago=3, status=ItemStatus.PUBLISHED),  # sent as a post: not repeated
        material(3, days_ago=1, status=ItemStatus.PENDING),
        material(4, days_ago=1, status=ItemStatus.DRAFT),
        material(5, days_ago=8),  # before the period
        material(6, days_ago=7),  # the period's first instant: in
        material(7, days_ago=0),  # the run's instant: next period
        material(8, days_ago=1, approved_at=None),
        event(10, days_ahead=1),
        event(11, days_ahead=13.9),
        event(12, days_ahead=14),  # 14 days ahead: out
        event(13, days_ahead=-0.1),  # already started
        event(14, starts_at=None, timing_text="В течение года"),  # no exact start: out for now
        event(15, days_ahead=2, status=ItemStatus.REJECTED),
        case(20, days_ago=2),
        case(21, days_ago=1),
        case(22, days_ago=9),
        Item(30, ItemKind.ANNOUNCEMENT, "Объявление", status=ItemStatus.APPROVED,
             approved_at=RUN - timedelta(days=1)),
    ]  # fmt: skip
    pool = DigestPool.gather(items, WEEK, RUN)
    assert ids(pool.materials) == [1, 6]  # newest first
    assert ids(pool.events) == [10, 11]  # soonest first
    assert ids(pool.cases) == [21, 20]


def test_a_daily_digest_lists_new_and_imminent_events_not_the_same_fortnight() -> None:
    daily = daily_period(RUN)
    items = [
        event(1, days_ahead=10, approved_at=RUN - timedelta(days=20)),  # known for weeks: out
        event(2, days_ahead=10, approved_at=RUN - timedelta(hours=5)),  # new since last run
        event(3, days_ahead=1.5, approved_at=RUN - timedelta(days=20)),  # the day after next
        event(4, days_ahead=5),  # no approval time (imported): only when imminent
    ]
    assert ids(DigestPool.gather(items, daily, RUN, Frequency.DAILY).events) == [3, 2]
    assert ids(DigestPool.gather(items, WEEK, RUN, Frequency.WEEKLY).events) == [3, 4, 1, 2]


def test_selection_follows_topics_role_and_organisation_kind() -> None:
    pool = DigestPool.gather(
        [
            material(1),
            material(2, audience_roles=frozenset({Role.HEAD, Role.COORDINATOR})),
            material(3, audience_orgs=frozenset({OrgKind.KINDERGARTEN})),
            event(10),
            event(11, audience_roles=frozenset({Role.TEACHER})),
            case(20, days_ago=1, audience_orgs=frozenset({OrgKind.KINDERGARTEN})),
            case(21, days_ago=2),
        ],
        WEEK,
        RUN,
    )
    teacher = select_content(pool, group())
    assert ids(teacher.materials) == [1]
    assert ids(teacher.events) == [10, 11]
    assert teacher.case is not None and teacher.case.id == 21  # newest that is for them

    head_kindergarten = select_content(pool, group(role=Role.HEAD, org_kind=OrgKind.KINDERGARTEN))
    assert ids(head_kindergarten.materials) == [3, 2, 1]  # same approval: newest id first
    assert ids(head_kindergarten.events) == [10]
    assert head_kindergarten.case is not None and head_kindergarten.case.id == 20

    unknown = select_content(pool, group(role=None, org_kind=None))
    assert ids(unknown.materials) == [1]  # only what is for everyone

    events_only = select_content(pool, group(frozenset({Topic.EVENTS})))
    assert events_only.materials == () and events_only.case is None
    assert ids(events_only.events) == [10, 11]

    assert select_content(pool, group(frozenset({Topic.ANNOUNCEMENTS}))).empty
    assert select_content(pool, group(frozenset())).empty


def test_no_case_section_when_no_case_was_approved_in_the_period() -> None:
    pool = DigestPool.gather([material(1), case(20, days_ago=10)], WEEK, RUN)
    assert select_content(pool, group()).case is None


def test_groups_with_the_same_content_share_a_key() -> None:
    pool = DigestPool.gather([material(1), event(10)], WEEK, RUN)
    head = select_content(pool, group(role=Role.HEAD))
    teacher = select_content(pool, group(role=Role.TEACHER))
    assert head.key == teacher.key
    assert select_content(pool, group(frozenset({Topic.EVENTS}))).key != teacher.key


# --- packing -------------------------------------------------------------------------------------


def test_utf16_length_is_telegrams_and_aiograms() -> None:
    for text in ("Дайджест", "📚 Новые", "👨‍👩‍👧 семья", "a\u00a0b"):
        assert utf16_len(text) == sizeof(text)
    assert utf16_len("📚") == 2


def test_joined_blocks_keep_their_entities_in_place() -> None:
    first = MessagePart("📚 Раз", ({"type": "bold", "offset": 3, "length": 3},))
    second = MessagePart("Два", ({"type": "italic", "offset": 0, "length": 3},))
    joined = join_blocks([first, second])
    assert joined.text == "📚 Раз\n\nДва"
    assert joined.entities[1] == {"type": "italic", "offset": 8, "length": 3}  # 📚 counts 2


def test_blocks_are_packed_in_order_without_cutting_one() -> None:
    blocks = [MessagePart(f"Блок {n}. " + "слово " * (n * 7 % 90)) for n in range(200)]
    blocks = [MessagePart(b.text.strip()) for b in blocks]
    parts = pack_blocks(blocks, limit=1000)
    assert len(parts) > 1
    assert all(utf16_len(p.text) <= 1000 for p in parts)
    assert [b for p in parts for b in p.text.split("\n\n")] == [b.text for b in blocks]


def test_a_block_longer_than_a_message_is_cut_on_a_word_with_an_ellipsis() -> None:
    long = MessagePart(
        "Заголовок " + "длинноеслово " * 500,
        (
            {"type": "bold", "offset": 0, "length": 9},
            {"type": "italic", "offset": 5, "length": 6000},
        ),
    )
    (part,) = pack_blocks([long], limit=MESSAGE_LIMIT)
    assert utf16_len(part.text) <= MESSAGE_LIMIT
    assert part.text.endswith("длинноеслово…")
    assert part.entities[0] == {"type": "bold", "offset": 0, "length": 9}
    assert part.entities[1]["length"] == utf16_len(part.text) - 1 - 5  # clipped before «…»
    one_word = truncate_part(MessagePart("а" * 50), 10)
    assert one_word.text == "а" * 9 + "…"


# --- rendering -----------------------------------------------------------------------------------


def entity_text(part: MessagePart, entity: dict[str, object]) -> str:
    units = part.text.encode("utf-16-le")
    offset, length = entity["offset"], entity["length"]
    assert isinstance(offset, int) and isinstance(length, int)
    return units[offset * 2 : (offset + length) * 2].decode("utf-16-le")


def test_digest_reads_in_russian_with_dates_in_local_time() -> None:
    content = DigestContent(
        materials=(
            material(1, url="https://imc.example/m1", body="Сборник <b>задач</b>  для\nпедагогов"),
            material(2),
            material(3, url="javascript:alert(1)"),
        ),
        events=(
            event(
                10,
                title="Семинар для координаторов",
                starts_at=datetime(2026, 12, 4, 7, 0, tzinfo=UTC),  # 10:00 in Moscow
                place="ИМЦ, ауд. 12",
                registration_url="https://imc.example/reg",
            ),
            event(
                11,
                title="Фестиваль проектов",
                starts_at=datetime(2026, 12, 5, 6, 0, tzinfo=UTC),
                ends_at=datetime(2026, 12, 8, 15, 0, tzinfo=UTC),
            ),
        ),
        case=case(20, organisation="ГБОУ СОШ № 123", body="Неделя проектов. " * 100),
    )
    (part,) = texts.digest_messages(content, Frequency.WEEKLY, WEEK, MSK)
    text = part.text
    assert text.startswith("Дайджест «Инфозоны» · 30 ноября – 6 декабря\n")
    assert "В выпуске: 3 новых материала, 2 ближайших мероприятия и опыт площадки." in text
    assert "📚 Новые материалы\n▫️ Материал 1\nСборник <b>задач</b> для педагогов" in text
    assert "📅 Ближайшие мероприятия" in text
    assert (
        "▫️ пт, 4 декабря, 10:00 — Семинар для координаторов\n📍 ИМЦ, ауд. 12 · 📝 Регистрация"
        in text
    )
    assert "▫️ с 5 по 8 декабря — Фестиваль проектов" in text
    assert "💡 Опыт площадок\nКейс 20\n🏫 ГБОУ СОШ № 123\nНеделя проектов." in text
    assert text.endswith("…")
    links = {entity_text(part, e): e["url"] for e in part.entities if e["type"] == "text_link"}
    assert links == {"📝 Регистрация": "https://imc.example/reg"}
    # Each title opens the entry's card in the bot; the transport makes it a t.me link.
    opens = {entity_text(part, e): e["payload"] for e in part.entities if e["type"] == "bot_link"}
    assert opens == {
        "Материал 1": "item_1",
        "Материал 2": "item_2",
        "Материал 3": "item_3",
        "Семинар для координаторов": "item_10",
        "Фестиваль проектов": "item_11",
        "Кейс 20": "item_20",
    }
    bold = {entity_text(part, e) for e in part.entities if e["type"] == "bold"}
    assert {"Дайджест «Инфозоны» · 30 ноября – 6 декабря", "📚 Новые материалы"} <= bold
    assert "Материал 3" in bold


def test_headings_and_plurals() -> None:
    one = DigestContent(materials=(material(1),), events=(event(10),))
    (part,) = texts.digest_messages(one, Frequency.DAILY, daily_period(RUN), MSK)
    assert part.text.startswith("Дайджест «Инфозоны» · пн, 30 ноября\n")
    assert "В выпуске: 1 новый материал и 1 ближайшее мероприятие." in part.text
    five = DigestContent(materials=tuple(material(n) for n in range(5)))
    (part,) = texts.digest_messages(five, Frequency.WEEKLY, WEEK, MSK)
    assert "В выпуске: 5 новых материалов." in part.text
    # A Monday's issue is titled with its own week, not the one it looks back on.
    within = weekly_period(datetime(2026, 12, 7, 9, 0, tzinfo=MSK))
    assert texts.digest_title(Frequency.WEEKLY, within, MSK).endswith("· 7–13 декабря")
    across = weekly_period(datetime(2026, 11, 30, 9, 0, tzinfo=MSK))
    assert texts.digest_title(Frequency.WEEKLY, across, MSK).endswith("· 30 ноября – 6 декабря")
    new_year = weekly_period(datetime(2026, 12, 28, 9, 0, tzinfo=MSK))
    assert texts.digest_title(Frequency.WEEKLY, new_year, MSK).endswith(
        "· 28 декабря 2026 – 3 января 2027"
    )


def test_a_long_digest_is_split_between_items() -> None:
    content = DigestContent(
        materials=tuple(
            material(n, url=f"https://imc.example/{n}", body="Описание материала 📘 " * 8)
            for n in range(80)
        ),
        events=tuple(event(100 + n, place="ИМЦ") for n in range(30)),
        case=case(200, body="Опыт. " * 2000),  # the excerpt keeps only its start
    )
    parts = texts.digest_messages(content, Frequency.WEEKLY, WEEK, MSK)
    assert len(parts) > 2
    assert all(sizeof(p.text) <= MESSAGE_LIMIT for p in parts)
    assert parts[0].text.startswith("Дайджест «Инфозоны»")
    titles = [entity_text(p, e) for p in parts for e in p.entities if e["type"] == "bot_link"]
    events = [f"Мероприятие {100 + n}" for n in range(30)]
    # Each once, in order, none cut.
    assert titles == [*(f"Материал {n}" for n in range(80)), *events, "Кейс 200"]
    joined = "\n\n".join(p.text for p in parts)
    positions = [joined.index(f"Мероприятие {100 + n}\n") for n in range(30)]
    assert positions == sorted(positions)
    for p in parts:  # every part starts with a whole item (or a heading before one)
        assert p.text.startswith(("Дайджест", "▫️", "📅", "💡"))
    assert "💡 Опыт площадок\nКейс 200\nОпыт. Опыт." in parts[-1].text
    assert parts[-1].text.endswith("Опыт.…")


def test_an_item_too_long_for_one_message_goes_alone_and_is_cut() -> None:
    huge = material(2, title="Положение о конкурсе " * 400, url="https://imc.example/2")
    content = DigestContent(materials=(material(1), huge, material(3)))
    first, second, third = texts.digest_messages(content, Frequency.WEEKLY, WEEK, MSK)
    assert first.text.endswith("▫️ Материал 1")
    whole = "▫️ " + huge.title
    kept = second.text.removesuffix("…")
    assert second.text.endswith("…") and whole.startswith(kept)
    assert whole[len(kept)] == " "  # cut between words
    assert sizeof(second.text) <= MESSAGE_LIMIT
    link = next(e for e in second.entities if e["type"] == "bot_link")
    offset, length = link["offset"], link["length"]
    assert isinstance(offset, int) and isinstance(length, int)
    assert offset + length == sizeof(second.text) - 1  # clipped before «…»
    assert third.text == "▫️ Материал 3"


def test_titles_from_feeds_become_one_line_and_never_empty() -> None:
    content = DigestContent(
        materials=(material(1, title="  Новый\n  сборник\tзаданий "), material(2, title="  ")),
    )
    (part,) = texts.digest_messages(content, Frequency.WEEKLY, WEEK, MSK)
    assert "▫️ Новый сборник заданий\n\n▫️ Без названия" in part.text
    assert all(e["length"] for e in part.entities)
