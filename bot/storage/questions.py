"""Questions subscribers send to the IMC (/ask) and the editors' answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.content.models import OrgKind, Role
from bot.storage.database import Database
from bot.storage.db import as_utc, utcnow
from bot.storage.schema import questions

QUESTION_MAX = 2000
OPEN_QUESTIONS_MAX = 5  # unanswered questions one subscriber may have at a time


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    chat_id: int | None  # None once the asker used /forget
    text: str
    asker_role: Role | None
    asker_org_kind: OrgKind | None
    asker_org_name: str | None
    created_at: datetime | None
    answer: str | None
    answered_by: int | None
    answered_at: datetime | None
    follows_id: int | None = None  # the question this one replies to the answer of

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


def _to_question(row: sa.Row[tuple[object, ...]]) -> Question:
    m = row._mapping
    return Question(
        id=m["id"],
        chat_id=m["chat_id"],
        text=m["text"],
        asker_role=Role(m["asker_role"]) if m["asker_role"] in Role._value2member_map_ else None,
        asker_org_kind=(
            OrgKind(m["asker_org_kind"])
            if m["asker_org_kind"] in OrgKind._value2member_map_
            else None
        ),
        asker_org_name=m["asker_org_name"],
        created_at=as_utc(m["created_at"]),
        answer=m["answer"],
        answered_by=m["answered_by"],
        answered_at=as_utc(m["answered_at"]),
        follows_id=m["follows_id"],
    )


class QuestionRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def add(
        self,
        chat_id: int,
        text: str,
        role: Role | None,
        org_kind: OrgKind | None,
        org_name: str | None,
        follows_id: int | None = None,
    ) -> Question:
        async with self._engine.begin() as conn:
            question_id = (
                await conn.execute(
                    questions.insert()
                    .values(
                        chat_id=chat_id, text=text, asker_role=role.value if role else None,
                        asker_org_kind=org_kind.value if org_kind else None,
                        asker_org_name=org_name, created_at=utcnow(), follows_id=follows_id,
                    )
                    .returning(questions.c.id)
                )
            ).scalar_one()  # fmt: skip
        stored = await self.get(question_id)
        assert stored is not None
        return stored

    async def get(self, question_id: int) -> Question | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(questions.select().where(questions.c.id == question_id))
            ).first()
        return _to_question(row) if row else None

    async def open_count(self, chat_id: int) -> int:
        async with self._engine.connect() as conn:
            found = await conn.execute(
                sa.select(sa.func.count())
                .select_from(questions)
                .where(questions.c.chat_id == chat_id, questions.c.answered_at.is_(None))
            )
            return int(found.scalar_one())

    async def open_questions(self, limit: int) -> list[Question]:
        """Unanswered questions whose askers can still get an answer, oldest first."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                questions.select()
                .where(questions.c.answered_at.is_(None), questions.c.chat_id.is_not(None))
                .order_by(questions.c.id)
                .limit(limit)
            )
            return [_to_question(row) for row in rows]

    async def answer(
        self, question_id: int, answer: str, answered_by: int, now: datetime | None = None
    ) -> bool:
        """Record the answer; False if the question was answered already (or is gone).

        The check and the write are one statement, so two editors answering at once can't both
        win.
        """
        async with self._engine.begin() as conn:
            result = await conn.execute(
                questions.update()
                .where(questions.c.id == question_id, questions.c.answered_at.is_(None))
                .values(answer=answer, answered_by=answered_by, answered_at=now or utcnow())
            )
        return bool(result.rowcount)

    async def answered_by_message(self, chat_id: int, message_id: int) -> Question | None:
        """The question whose answer the bot sent to `chat_id` as message `message_id`."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    questions.select().where(
                        questions.c.chat_id == chat_id,
                        questions.c.answer_message_id == message_id,
                    )
                )
            ).first()
        return _to_question(row) if row else None

    async def set_answer_message(self, question_id: int, message_id: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                questions.update()
                .where(questions.c.id == question_id)
                .values(answer_message_id=message_id)
            )
