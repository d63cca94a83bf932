"""The first run as plain rules: which onboarding steps someone is asked, what a role implies,
what a poster's link presets, and what can't be an organisation's name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from bot.content.models import OrgKind, Role

# A poster's link `?start=role_preschool` (or `role_preschool_dou45`, `role_head-poster3`:
# a tag after the role is kept in the source too) answers the role question in advance.
ROLE_LINK_PREFIX = "role_"

# Where the role already says where someone works, the question isn't asked.
IMPLIED_ORG_KIND: Mapping[Role, OrgKind] = {Role.PRESCHOOL: OrgKind.KINDERGARTEN}


class Step(StrEnum):
    ROLE = "role"
    ORG_KIND = "org_kind"
    ORG_NAME = "org_name"
    TOPICS = "topics"
    FREQUENCY = "frequency"


def preset_role(source: str | None) -> Role | None:
    """The role a deep link's payload names, if it is a role-preset link."""
    if not source or not source.startswith(ROLE_LINK_PREFIX):
        return None
    code = re.split(r"[-_]", source[len(ROLE_LINK_PREFIX) :], maxsplit=1)[0]
    return Role(code) if code in Role._value2member_map_ else None


def role_link(role: Role) -> str:
    """The deep-link payload that presets `role`."""
    return ROLE_LINK_PREFIX + role.value


def steps(source: str | None, role: Role | None) -> tuple[Step, ...]:
    """The questions of this person's onboarding, in order. Before the role is chosen the
    organisation kind counts as asked: the total shrinks once the role implies it."""
    asked: list[Step] = []
    if preset_role(source) is None:
        asked.append(Step.ROLE)
    if role not in IMPLIED_ORG_KIND:
        asked.append(Step.ORG_KIND)
    asked += [Step.ORG_NAME, Step.TOPICS, Step.FREQUENCY]
    return tuple(asked)


def step_number(step: Step, source: str | None, role: Role | None) -> tuple[int, int]:
    """(this step's number from 1, how many steps there are)."""
    asked = steps(source, role)
    return asked.index(step) + 1 if step in asked else 1, len(asked)


# --- what a typed organisation name may not be ------------------------------------------------


class NameProblem(StrEnum):
    COMMAND = "command"
    LINK = "link"
    QUESTION = "question"


_LINK = re.compile(
    r"https?://|www\.|t\.me/|@\w|\b[\w-]+\.(?:ru|рф|su|com|org|net|info|рус|online|site)\b",
    re.IGNORECASE,
)
# The first word of a question as people type one; an organisation's name never starts so.
_QUESTION_WORDS = frozenset(
    (
        "что", "когда", "где", "куда", "как", "какой", "какая", "какое", "какие", "каких",
        "почему", "зачем", "кто", "сколько", "можно", "подскажите", "скажите", "объясните",
        "есть",
    )
)  # fmt: skip


def org_name_problem(text: str) -> NameProblem | None:
    """Why `text` (typed at the organisation step) is not a name, or None if it may be one."""
    stripped = text.strip()
    if stripped.startswith("/"):
        return NameProblem.COMMAND
    if _LINK.search(stripped):
        return NameProblem.LINK
    words = re.findall(r"\w+", stripped.lower().replace("ё", "е"))
    if "?" in stripped or (words and words[0] in _QUESTION_WORDS):
        return NameProblem.QUESTION
    return None
