"""Topic words: the subjects a question names and the subjects an item is about.

A question's word names a subject when it starts with one of the subject's word beginnings
(семинар/совещание/вебинар, конкурс, консультация, курсы/обучение, демодень/акселератор, …),
or, for beginnings of six letters and more, when one letter is off (a typo: «семенар»,
«кансультации»). An item is about a subject when a word of its title begins with one of the
beginnings exactly. Subjects travel in buttons as a bit mask over
SUBJECTS, so their order is fixed: append only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.content.models import Item


@dataclass(frozen=True, slots=True)
class Subject:
    key: str
    label: str  # for the heading: «семинары и совещания»
    starts: tuple[str, ...]  # word beginnings, lower case, ё as е
    kind: bool = True  # a kind of event (семинар); False for a theme (грамотность)


# Append only: a subject's position is its bit in the buttons of answers already sent.
SUBJECTS: tuple[Subject, ...] = (
    Subject("seminar", "семинары и совещания",
            ("семинар", "совещан", "вебинар", "практикум", "планерк", "круглый")),
    Subject("expert", "экспертный совет", ("экспертн",)),
    Subject("council", "советы", ("совет", "педсовет")),
    Subject("expertise", "экспертиза", ("экспертиз",)),
    Subject("contest", "конкурсы", ("конкурс", "олимпиад", "смотр")),
    Subject("consultation", "консультации", ("консультац", "консультир")),
    Subject("courses", "курсы и обучение",
            ("курс", "обучени", "обучающ", "квалификац", "стажировк")),
    Subject("accelerator", "демодень и акселератор",
            ("демодн", "демодень", "акселер", "преакселер", "преаксел", "нетвор")),
    Subject("lessons", "открытые уроки и занятия", ("урок", "занятия", "занятий")),
    Subject("associations", "методические объединения", ("рмо", "шмо", "объединени")),
    Subject("attestation", "аттестация", ("аттестац", "аттестуем")),
    Subject("monitoring", "мониторинг и диагностика",
            ("мониторинг", "диагностик", "впр", "проверочн")),
    Subject("dissemination", "распространение опыта",
            ("распространени", "тиражир", "диссемин"), kind=False),
    Subject("projects", "проекты", ("проектн", "проект"), kind=False),
    Subject("mentoring", "наставничество", ("наставни", "молод"), kind=False),
    Subject("conference", "конференции и фестивали", ("конференц", "форум", "фестивал")),
    Subject("publishing", "публикации", ("издательск", "публикац", "сборник", "журнал")),
    Subject("infozona", "«Инфозона»", ("инфозон", "медиасред"), kind=False),
    Subject("reports", "документы и отчёты", ("отчет", "документац", "протокол")),
    Subject("parents", "родительские собрания", ("родительск", "родител")),
    Subject("literacy", "функциональная грамотность", ("грамотност",), kind=False),
    Subject("digital", "цифровые технологии", ("цифров", "икт", "дистанцион"), kind=False),
    Subject("sites", "площадки", ("площадк", "площадок"), kind=False),
    Subject("webinar", "вебинары", ("вебинар", "онлайн")),
    Subject("action", "акции", ("акци",)),
)  # fmt: skip
_FUZZY_MIN = 6  # beginnings this long match with one letter off


def _normalise(text: str) -> str:
    s = text.lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w]+|_", " ", s).split())


def _close(a: str, b: str) -> bool:
    """At most one letter inserted, dropped, changed or two swapped."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and (a[diff[1]] == b[diff[0]])
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _word_subjects(word: str) -> set[int]:
    exact = {n for n, s in enumerate(SUBJECTS) if any(word.startswith(p) for p in s.starts)}
    if exact or len(word) < _FUZZY_MIN - 1:
        return exact
    return {
        n
        for n, s in enumerate(SUBJECTS)
        for p in s.starts
        if len(p) >= _FUZZY_MIN
        and any(_close(word[:size], p) for size in (len(p) - 1, len(p), len(p) + 1))
    }


# Names that say their subject in other words: «когда педагог года?» asks about a contest.
_PHRASES = ((re.compile(r"\b(?:педагог|учител|воспитател)\w* года\b"), "конкурс"),)


def question_topics(text: str) -> tuple[int, ...]:
    """The subjects a question names, as SUBJECTS positions in the order they are written."""
    s = _normalise(text)
    for pattern, word in _PHRASES:
        s = pattern.sub(word, s)
    found: list[int] = []
    for word in s.split():
        for n in sorted(_word_subjects(word)):
            if n not in found:
                found.append(n)
    return tuple(found)


def item_topics(item: Item) -> frozenset[int]:
    """The subjects an item is about, read from its title: a plan row's body is its expected
    result («повышение готовности к участию в конкурсном движении»), not what it is."""
    words = _normalise(item.title).split()
    return frozenset(
        n for n, s in enumerate(SUBJECTS) for w in words if any(w.startswith(p) for p in s.starts)
    )


def topics_mask(topics: tuple[int, ...] | frozenset[int]) -> int:
    return sum(1 << n for n in set(topics))


def topics_unmask(bits: int) -> tuple[int, ...]:
    return tuple(n for n in range(len(SUBJECTS)) if bits & (1 << n))


def event_kinds(topics: tuple[int, ...]) -> bool:
    """Whether the topics name a kind of event, not only a theme a material may be on."""
    return any(SUBJECTS[n].kind for n in topics)


def topics_label(topics: tuple[int, ...]) -> str:
    """The first subject named, for the heading: «экспертный совет» rather than «советы»."""
    return SUBJECTS[topics[0]].label if topics else ""
