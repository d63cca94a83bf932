"""Free text in people's own words: what the message wants.

Read without Telegram, with a fixed `today`, so tests and the bot agree. In this order: a link,
a stop request («отписаться», «не присылайте»), a request for the sites' experience or for
materials, a what's-next question (a window, an audience, or a topic asked about: «что по
конкурсам», «когда экспертный совет»), thanks, goodbyes, greetings and «ок»; anything else is
OTHER, which the bot answers with the menu, a search with those words and «Отправить как вопрос
в ИМЦ», one tap each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from bot.content.topics import event_kinds, question_topics, topics_label
from bot.content.whatsnext import NextQuery, parse_next_query, topic_query


class Intent(StrEnum):
    NEXT = "next"  # what's next, in a window, for an audience or on a topic
    MATERIALS = "materials"
    CASES = "cases"
    THANKS = "thanks"
    BYE = "bye"
    HELLO = "hello"
    ACK = "ack"  # «ок», «понятно»
    STOP = "stop"  # pause the mailing: the /stop confirmation
    OTHER = "other"  # the fallback: menu, search, a question to the IMC


@dataclass(frozen=True)
class Reading:
    intent: Intent
    query: NextQuery | None = None  # Intent.NEXT
    words: str = ""  # MATERIALS, CASES: what to look for on that shelf, may be empty


# --- what the text wants -------------------------------------------------------------------------

_LINK = re.compile(r"https?://|\bwww\.|\b[\w-]+\.(?:ru|рф|com|org|net|su)\b", re.IGNORECASE)
_STOP = re.compile(
    r"\bотпис\w*|\bне (?:надо |нужно |стоит )?(?:присыл|присла|отправл|пиш|беспоко)\w*"
    r"|\bхватит (?:присыл|присла|слать|спам|писать)\w*|\bбольше не (?:надо|нужно|присыла\w*)"
    r"|\b(?:останов|отключ|прекрат)\w* (?:рассылк|уведомлен|дайджест)\w*|\bстоп\b"
    r"|\bудалите меня\b|\bотстаньте\b"
)
_MATERIALS = re.compile(r"\bматериал\w*|\bметодичк\w*|\bметодразработк\w*|\bразработк\w*")
_CASES = re.compile(
    r"\bкейс\w*|\bопыт\w* (?:площад|школ|садов|детск|коллег| оу|доо|друг)\w*"
    r"|\bлучш\w* практик\w*|\bинновационн\w* практик\w*|\bпримеры? (?:работ|опыт)\w*"
    r"|^опыт\w*$"
)
# Words that say nothing about which materials or cases: «новые материалы», «покажите опыт».
_SHELF_FILLER = frozenset({
    "а", "и", "ну", "есть", "ли", "какие", "какой", "что", "новые", "новое", "нового", "свежие",
    "последние", "посмотреть", "покажи", "покажите", "пришли", "пришлите", "дай", "дайте",
    "хочу", "нужны", "нужно", "у", "вас", "там", "по", "про", "о", "об", "на", "тему", "теме",
    "пожалуйста", "подскажите", "методические", "методический", "методических", "можно",
    "где", "найти", "мне", "нам", "площадок", "площадки", "школ", "коллег", "других",
    "лучшие", "инновационные", "почитать", "полезное", "полезные", "опыт", "опыта", "кейсы",
    "кейс", "кейсов", "примеры", "работы", "материалы", "материал", "материалов", "методички",
})  # fmt: skip
_WHEN = re.compile(
    r"\bкогда\b|\bдальше\b|\bближайш\w*|\bмероприят\w*|\bсобыти\w*|\bсегодня\b|\bзавтра\b"
    r"|\bнедел\w*|\bмесяц\w*|\bянвар|\bфеврал|\bмарт|\bапрел|\bма[йяе]\b|\bиюн|\bиюл|\bавгуст"
    r"|\bсентябр|\bоктябр|\bноябр|\bдекабр"
)
_THANKS = re.compile(r"\bспасиб\w*|\bблагодар\w*|\bспс\b|\bпасиб\w*|\bмерси\b|\bсенкс\b")
_BYE = re.compile(
    r"\bдо свидани\w*|\bдосвидани\w*|\bпока\b|\bвсего (?:доброго|хорошего)\b|\bдо встречи\b"
    r"|\bхорошего (?:дня|вечера)\b|\bдо завтра\b"
)
_HELLO = re.compile(
    r"\bпривет\w*|\bздравствуй\w*|\bздраст\w*|\bдобр(?:ый|ое|ого) (?:день|утро|вечер|дня)\b"
    r"|\bкак дела\b|\bкак ты\b|\bкто ты\b|\bты кто\b|\bты бот\b|\bчто ты умеешь\b"
    r"|\bчто умеешь\b"
)
_ACK = re.compile(
    r"^(?:ок|окей|ok|okay|хорошо|понятно|ясно|ладно|принято|отлично|супер|класс|ага|угу|да)"
    r"(?: (?:ок|спасибо|понятно|ясно|хорошо))?$"
)
# A topic alone is a question only when asked: «что по конкурсам», «когда совет», «семинары?».
_ASKING = re.compile(
    r"\?|\bчто\b|\bкогда\b|\bгде\b|\bкакие\b|\bкакой\b|\bкакая\b|\bесть ли\b|\bбудет\w*"
    r"|\bбудут\b|\bпо\b|\bпро\b|\bрасскаж\w*|\bподскаж\w*|\bинтересу\w*|\bпланиру\w*"
    r"|\bпроход\w*|\bсостоит\w*|\bназначен\w*"
)
_LONG = 14  # words: a longer text is a letter, not a question to answer from the plan


def _normalise(text: str) -> str:
    s = text.lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w]+|_", " ", s).split())


def _shelf_words(s: str, pattern: re.Pattern[str]) -> str:
    rest = pattern.sub(" ", s)
    return " ".join(w for w in rest.split() if w not in _SHELF_FILLER)[:100]


def read_text(text: str, today: date) -> Reading:
    """What a free-text message wants; see the module's docstring for the order."""
    s = _normalise(text)
    if not s:
        return Reading(Intent.OTHER)
    if _LINK.search(text):
        return Reading(Intent.OTHER)
    if _STOP.search(s):
        return Reading(Intent.STOP)
    topics = question_topics(text)
    if _CASES.search(s) and not _WHEN.search(s):
        return Reading(Intent.CASES, words=_shelf_words(s, _CASES))
    if _MATERIALS.search(s) and not _WHEN.search(s) and not event_kinds(topics):
        return Reading(Intent.MATERIALS, words=_shelf_words(s, _MATERIALS))
    query = parse_next_query(text, today)
    thanks = bool(_THANKS.search(s))
    if query is None and topics and len(s.split()) <= _LONG:
        asked = bool(_ASKING.search(text.lower())) or len(s.split()) <= 3
        if asked and not (thanks and not _WHEN.search(s)):
            query = topic_query(today, text)
    if query is not None:
        return Reading(Intent.NEXT, query=query_with_topics(query, topics, today))
    if thanks:
        return Reading(Intent.THANKS)
    if _BYE.search(s):
        return Reading(Intent.BYE)
    if _HELLO.search(s):
        return Reading(Intent.HELLO)
    if _ACK.match(s):
        return Reading(Intent.ACK)
    return Reading(Intent.OTHER)


def query_with_topics(query: NextQuery, topics: tuple[int, ...], today: date) -> NextQuery:
    """The query with its topics in the label; with no window named, a topic looks a year
    ahead: «конкурсы для воспитателей» asked in November finds February's contest."""
    if not topics:
        return query
    label = f"{query.label}: {topics_label(topics)}"
    end = query.end if query.window_named else topic_query(today).end
    return replace(query, topics=topics, label=label, end=end)
