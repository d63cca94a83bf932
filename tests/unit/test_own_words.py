"""Questions in people's own words against a realistic plan: the district's 2021-2022 plan (the
seed plan) and the dated events an editor adds, asked on Monday 15 November 2021. Each question
names the activity that must come first; each non-question the kind of answer it must get."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.content.intents import Intent, read_text
from bot.content.models import Item, ItemKind, ItemStatus, OrgKind, Role
from bot.content.plan import decode_plan, parse_plan
from bot.content.topics import SUBJECTS, item_topics, question_topics, topics_mask, topics_unmask
from bot.content.whatsnext import (
    FIRST_SCREEN,
    build_answer,
    describe_window,
    exportable,
    for_imc,
    parse_next_query,
)
from bot.services.plan_import import plan_item_to_item
from tests.support import PLAN_2021

MSK = ZoneInfo("Europe/Moscow")
TODAY = date(2021, 11, 15)  # a Monday in the plan's school year


def _event(
    item_id: int,
    title: str,
    day: date,
    roles: set[Role] | None = None,
    orgs: set[OrgKind] | None = None,
    audience: str | None = None,
) -> Item:
    return Item(
        item_id, ItemKind.EVENT, title, status=ItemStatus.APPROVED,
        starts_at=datetime(day.year, day.month, day.day, 10, 0, tzinfo=MSK),
        audience_roles=frozenset(roles or ()), audience_orgs=frozenset(orgs or ()),
        audience_text=audience,
    )  # fmt: skip


SCHOOL = {OrgKind.SCHOOL}
KINDERGARTEN = {OrgKind.KINDERGARTEN}
EVENTS = [
    _event(101, "Семинар «Функциональная грамотность дошкольников»", date(2021, 11, 25),
           orgs=KINDERGARTEN, audience="Педагоги ДОО"),
    _event(102, "Муниципальный этап конкурса «Педагог года – 2022»", date(2022, 1, 20),
           {Role.TEACHER}, SCHOOL),
    _event(103, "Конкурс «Воспитатель года – 2022»", date(2022, 2, 10),
           {Role.PRESCHOOL}, KINDERGARTEN),
    _event(104, "Демодень районных опорных площадок", date(2021, 12, 10),
           {Role.HEAD, Role.COORDINATOR}, SCHOOL),
    _event(105, "Курсы повышения квалификации «Цифровая образовательная среда»",
           date(2021, 12, 6), {Role.TEACHER}, SCHOOL),
    _event(106, "Вебинар для воспитателей ДОО «Речевое развитие»", date(2021, 12, 3),
           {Role.PRESCHOOL}, KINDERGARTEN),
    _event(107, "Заседание районного Экспертного совета", date(2021, 12, 16),
           {Role.HEAD, Role.COORDINATOR}, SCHOOL),
    _event(108, "Совещание руководителей ОУ", date(2021, 11, 24), {Role.HEAD}, SCHOOL),
    _event(109, "Консультация по подготовке заявок на конкурс инновационных продуктов",
           date(2021, 11, 30), {Role.HEAD, Role.COORDINATOR}, SCHOOL),
    _event(110, "Открытые занятия в ДОО по познавательному развитию", date(2022, 3, 15),
           {Role.PRESCHOOL}, KINDERGARTEN),
    _event(111, "Семинар для координаторов «Проектное управление»", date(2022, 3, 17),
           {Role.COORDINATOR}, SCHOOL),
    _event(112, "Педагогический совет ДОО «Итоги полугодия»", date(2021, 12, 27),
           {Role.PRESCHOOL, Role.HEAD}, KINDERGARTEN),
    _event(113, "Августовская конференция педагогов района", date(2022, 8, 26)),
    _event(114, "Консультация «Аттестация педагогических работников в 2022 году»",
           date(2022, 1, 12), {Role.TEACHER}, SCHOOL),
    _event(115, "Семинар «Смысловое чтение на уроках»", date(2021, 12, 8), {Role.TEACHER}, SCHOOL),
]  # fmt: skip


def _plan() -> list[Item]:
    plan = parse_plan(decode_plan(PLAN_2021.read_bytes()))
    now = datetime(2021, 9, 1, tzinfo=MSK)
    return [replace(plan_item_to_item(row, MSK, now), id=row.number) for row in plan.items]


ITEMS = [*_plan(), *EVENTS]
BY_ID = {item.id: item for item in ITEMS}
HEAD = (Role.HEAD, OrgKind.SCHOOL)
COORDINATOR = (Role.COORDINATOR, OrgKind.SCHOOL)
TEACHER = (Role.TEACHER, OrgKind.SCHOOL)
EDUCATOR = (Role.PRESCHOOL, OrgKind.KINDERGARTEN)

# (question as people write it, who asks, the id of the activity that must come first);
# plan rows are their number in the plan, events 101 and up.
QUESTIONS: list[tuple[str, tuple[Role, OrgKind], int]] = [
    ("когда экспертный совет?", HEAD, 107),
    ("Когда следующий экспертный совет", TEACHER, 107),
    ("когда экспертный совет", EDUCATOR, 107),  # named: shown whoever it is for
    ("совет экспертов когда", HEAD, 107),
    ("что у нас по конкурсам", TEACHER, 102),
    ("что у нас по конкурсам", EDUCATOR, 103),
    ("конкурсы воспитателям", HEAD, 103),
    ("педагог года когда", TEACHER, 102),
    ("что по семинарам в марте", HEAD, 8),  # the coordinators' March seminar, not hidden
    ("что было в марте 2022", COORDINATOR, 8),
    ("Что в марте?", COORDINATOR, 8),
    ("что для координаторов в марте", HEAD, 8),
    ("семинары для воспитателей", TEACHER, 101),
    ("семенары в декабре", TEACHER, 115),  # a typo
    ("а что там по демодню", HEAD, 104),
    ("когда демодень?", EDUCATOR, 104),
    ("акселератор когда", COORDINATOR, 104),
    ("преакселератор", HEAD, 104),
    ("что по площадкам в декабре", COORDINATOR, 104),
    ("консультации есть?", COORDINATOR, 109),
    ("кансультации по аттестации", TEACHER, 114),  # a typo
    ("что про аттестацию", TEACHER, 114),
    ("когда курсы повышения квалификации", TEACHER, 105),
    ("а что там по курсам", TEACHER, 105),
    ("обучение для педагогов", TEACHER, 105),
    ("мероприятия по цифровой среде", TEACHER, 105),
    ("вебинары для детсадов", HEAD, 106),
    ("Есть ли вебинары для воспитателей ДОО", HEAD, 106),
    ("педсовет когда", EDUCATOR, 112),
    ("открытые занятия в марте", EDUCATOR, 110),
    ("конференция в августе", TEACHER, 113),
    ("что на следующей неделе", HEAD, 108),
    ("что на следующей неделе для воспитателей", HEAD, 101),
    ("совещание руководителей когда", HEAD, 108),
    ("что в декабре для руководителей", TEACHER, 104),
    ("что дальше", TEACHER, 105),
    ("что дальше", EDUCATOR, 101),
    ("Что дальше?", HEAD, 108),
    ("ближайшие мероприятия для детских садов", HEAD, 101),
    ("что по инфозоне", TEACHER, 2),
    ("экспертиза результатов когда", HEAD, 6),
    ("а акция когда будет", TEACHER, 12),
    ("что по проектному управлению", COORDINATOR, 111),
    ("есть что-то по функциональной грамотности", TEACHER, 101),
    ("Добрый день, подскажите когда экспертный совет", COORDINATOR, 107),
    ("Спасибо, а что в марте?", COORDINATOR, 8),
]


@pytest.mark.parametrize(("text", "asker", "first"), QUESTIONS)
def test_the_activity_meant_comes_first(
    text: str, asker: tuple[Role, OrgKind], first: int
) -> None:
    reading = read_text(text, TODAY)
    assert reading.intent is Intent.NEXT, text
    assert reading.query is not None
    answer = build_answer(ITEMS, reading.query, *asker, MSK)
    assert answer.items, text
    assert answer.items[0].id == first, (text, [(i.id, i.title[:40]) for i in answer.items[:3]])


def test_there_are_forty_questions_and_more() -> None:
    assert len(QUESTIONS) >= 40


# (text that is not a question, the kind of answer it must get)
NOT_QUESTIONS: list[tuple[str, Intent]] = [
    ("Спасибо!", Intent.THANKS),
    ("спасибо большое", Intent.THANKS),
    ("Благодарю за информацию", Intent.THANKS),
    ("спс", Intent.THANKS),
    ("спасибо за мероприятия", Intent.THANKS),
    ("до свидания", Intent.BYE),
    ("Пока", Intent.BYE),
    ("всего доброго!", Intent.BYE),
    ("отписаться", Intent.STOP),
    ("Не присылайте больше ничего", Intent.STOP),
    ("хватит присылать", Intent.STOP),
    ("отписаться от мероприятий", Intent.STOP),
    ("как дела?", Intent.HELLO),
    ("Привет", Intent.HELLO),
    ("Добрый день", Intent.HELLO),
    ("ок", Intent.ACK),
    ("понятно", Intent.ACK),
    ("https://school12.spb.ru/news/seminar", Intent.OTHER),
    ("www.imc-rayon.ru", Intent.OTHER),
    ("ааааа", Intent.OTHER),
    ("у нас сломался принтер", Intent.OTHER),
    ("🙂", Intent.OTHER),
    ("привет, я учитель", Intent.HELLO),
    ("новые материалы", Intent.MATERIALS),
    ("опыт площадок", Intent.CASES),
]


@pytest.mark.parametrize(("text", "intent"), NOT_QUESTIONS)
def test_what_is_not_a_question_gets_its_kind_of_answer(text: str, intent: Intent) -> None:
    assert read_text(text, TODAY).intent is intent


def test_there_are_twenty_non_questions_and_more() -> None:
    assert len(NOT_QUESTIONS) >= 20


@pytest.mark.parametrize(
    ("text", "intent", "words"),
    [
        ("новые материалы", Intent.MATERIALS, ""),
        ("Есть материалы по функциональной грамотности?", Intent.MATERIALS,
         "функциональной грамотности"),
        ("покажите методички", Intent.MATERIALS, ""),
        ("опыт площадок", Intent.CASES, ""),
        ("кейсы по наставничеству", Intent.CASES, "наставничеству"),
        ("лучшие практики школ района", Intent.CASES, "района"),
    ],
)  # fmt: skip
def test_materials_and_experience_go_to_their_shelves(
    text: str, intent: Intent, words: str
) -> None:
    reading = read_text(text, TODAY)
    assert (reading.intent, reading.words) == (intent, words)


def test_a_month_with_a_year_means_that_year_and_says_it() -> None:
    query = parse_next_query("что было в марте 2022", date(2026, 12, 1))
    assert query is not None
    assert (query.start, query.end) == (date(2022, 3, 1), date(2022, 3, 31))
    assert query.label == "Мероприятия в марте 2022"
    this_year = parse_next_query("что в марте", date(2026, 12, 1))
    assert this_year is not None and this_year.label == "Мероприятия в марте"  # same school year


def test_a_topic_without_a_window_looks_a_year_ahead_and_names_itself() -> None:
    query = read_text("когда экспертный совет?", TODAY).query
    assert query is not None
    assert (query.start, query.end) == (TODAY, TODAY + timedelta(days=364))
    assert query.label == "Ближайшие мероприятия: экспертный совет"
    assert [SUBJECTS[n].key for n in query.topics] == ["expert", "council"]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("семинары", ["seminar"]),
        ("семенары", ["seminar"]),
        ("совещание", ["seminar"]),  # not a «совет» one letter off
        ("конкурам", ["contest"]),
        ("кансультации", ["consultation"]),
        ("демодень акселератор", ["accelerator"]),
        ("курсы обучение", ["courses"]),
        ("когда педагог года", ["contest"]),
        ("что в марте", []),
        ("для координаторов", []),
    ],
)
def test_topic_words_by_their_beginnings_and_one_typo(text: str, keys: list[str]) -> None:
    assert [SUBJECTS[n].key for n in question_topics(text)] == keys


def test_plan_rows_know_their_topics_from_the_title_only() -> None:
    keys = {SUBJECTS[n].key for n in item_topics(BY_ID[5])}
    assert {"accelerator", "courses", "expertise", "sites"} <= keys  # «Преакселатор: … демодень»
    assert not item_topics(BY_ID[13]) & {n for n, s in enumerate(SUBJECTS) if s.key == "contest"}


def test_topics_survive_a_button() -> None:
    topics = question_topics("когда экспертный совет")
    assert set(topics_unmask(topics_mask(topics))) == set(topics)


def test_the_asker_role_orders_but_never_hides_what_the_question_names() -> None:
    query = read_text("когда экспертный совет", TODAY).query
    assert query is not None
    answer = build_answer(ITEMS, query, *EDUCATOR, MSK)
    firsts = [item.id for item in answer.leading[:3]]
    assert firsts[:2] == [107, 3]  # both named, neither for a kindergarten
    plain = parse_next_query("что в декабре", TODAY)
    assert plain is not None
    for_educator = build_answer(ITEMS, plain, *EDUCATOR, MSK)
    assert 107 not in [item.id for item in for_educator.items]  # not named: hers only


def test_rows_for_the_imc_itself_are_never_shown() -> None:
    assert for_imc(BY_ID[4])  # «Ведение документации районного Экспертного совета», «Для: ИМЦ»
    assert not for_imc(BY_ID[1])
    for audience in ("Методисты ИМЦ", "специалисты и методисты ИМЦ", "Сотрудники ИМЦ."):
        assert for_imc(replace(BY_ID[1], audience_text=audience)), audience
    for other in ("Методисты ОУ", "Руководители ОУ, ИМЦ", "ИМЦ, координаторы", None):
        assert not for_imc(replace(BY_ID[1], audience_text=other)), other
    for text in ("что дальше", "когда экспертный совет", "документация совета"):
        reading = read_text(text, TODAY)
        assert reading.query is not None
        for asker in (HEAD, COORDINATOR, TEACHER, EDUCATOR, (Role.METHODIST, OrgKind.OTHER)):
            assert 4 not in [
                item.id for item in build_answer(ITEMS, reading.query, *asker, MSK).items
            ]


def test_the_first_screen_has_dated_entries_and_folds_the_year_long_rows() -> None:
    query = parse_next_query("что дальше", TODAY)
    assert query is not None
    answer = build_answer(ITEMS, query, *HEAD, MSK)
    assert [item.id for item in answer.leading] == [108, 109, 104]
    assert answer.shown == 3 <= FIRST_SCREEN
    assert answer.folded and all(item.starts_at is None for item in answer.folded)
    assert {1, 2, 3, 5} <= {item.id for item in answer.folded}
    assert answer.items == [*answer.leading, *answer.year_long]
    # Nothing dated: the year-long rows are the answer, five on the first screen.
    empty_week = parse_next_query("что сегодня", TODAY)
    assert empty_week is not None
    only_year = build_answer(ITEMS, empty_week, *HEAD, MSK)
    assert not only_year.leading and only_year.main == only_year.year_long
    assert only_year.shown == FIRST_SCREEN and not only_year.folded


def test_a_calendar_only_for_a_date_or_a_month() -> None:
    assert exportable(BY_ID[101])
    assert not exportable(BY_ID[1])  # «В течение года»
    assert not exportable(BY_ID[6])  # «2 квартал 2022»
    month = replace(BY_ID[1], period_start=date(2022, 3, 1), period_end=date(2022, 3, 31))
    assert exportable(month)


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (TODAY, TODAY + timedelta(days=29), "Ближайшие мероприятия"),
        (TODAY, TODAY + timedelta(days=364), "Ближайшие мероприятия"),
        (date(2022, 3, 1), date(2022, 3, 31), "Мероприятия в марте"),
        (date(2021, 3, 1), date(2021, 3, 31), "Мероприятия в марте 2021"),
        (TODAY, date(2021, 11, 30), "Мероприятия в ноябре"),
        (date(2022, 9, 15), date(2022, 9, 15), "Мероприятия 15 сентября 2022"),
        (date(2021, 12, 1), date(2021, 12, 10), None),
    ],
)
def test_a_page_button_labels_its_window_like_the_first_screen(
    start: date, end: date, label: str | None
) -> None:
    assert describe_window(start, end, TODAY) == label


def test_with_a_topic_named_the_first_screen_is_about_it_and_the_rest_is_one_tap_away() -> None:
    query = read_text("что по семинарам в марте", TODAY).query
    assert query is not None
    answer = build_answer(ITEMS, query, *HEAD, MSK)
    assert answer.topical
    assert [item.id for item in answer.leading] == [8, 111]  # both for coordinators
    assert answer.folded and all(item.id not in (8, 111) for item in answer.folded)
    nothing = read_text("что по олимпиадам в марте", TODAY).query
    assert nothing is not None and nothing.topics
    plain = build_answer(ITEMS, nothing, *HEAD, MSK)
    assert not plain.topical and plain.items  # nothing about it: the days asked about
