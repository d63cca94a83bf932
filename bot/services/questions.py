"""Questions to the IMC: a subscriber asks (within limits), an editor answers once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.config import Settings
from bot.storage.editors import EditorRepository
from bot.storage.questions import OPEN_QUESTIONS_MAX, QUESTION_MAX, Question, QuestionRepository
from bot.storage.subscribers import SubscriberRepository

__all__ = ["QUESTION_MAX", "Ask", "Asked", "Question", "QuestionService", "Replied", "Reply"]


class Ask(StrEnum):
    SENT = "sent"
    NOT_SUBSCRIBED = "not-subscribed"
    TOO_LONG = "too-long"  # the dialog stays open for a shorter version
    TOO_MANY = "too-many"  # OPEN_QUESTIONS_MAX unanswered already


@dataclass(frozen=True, slots=True)
class Asked:
    outcome: Ask
    question: Question | None = None
    open_count: int = 0  # TOO_MANY: how many wait for an answer


class Reply(StrEnum):
    RECORDED = "recorded"  # the answer is stored: now deliver it to `question.chat_id`
    NOT_FOUND = "not-found"
    ALREADY_ANSWERED = "already-answered"  # by `answerer`, at `answered_at`
    ASKER_GONE = "asker-gone"  # the asker used /forget


@dataclass(frozen=True, slots=True)
class Replied:
    outcome: Reply
    question: Question | None = None
    answerer: str = ""
    answered_at: datetime | None = None


class QuestionService:
    def __init__(
        self,
        questions: QuestionRepository,
        subscribers: SubscriberRepository,
        editors: EditorRepository,
        settings: Settings,
    ) -> None:
        self._questions = questions
        self._subscribers = subscribers
        self._editors = editors
        self._settings = settings

    async def answered_by_message(self, chat_id: int, message_id: int) -> Question | None:
        """The answered question whose answer is the bot's message `message_id` in the chat."""
        return await self._questions.answered_by_message(chat_id, message_id)

    async def answer_delivered(self, question_id: int, message_id: int) -> None:
        """The answer reached the asker as `message_id`: a reply to it follows the question."""
        await self._questions.set_answer_message(question_id, message_id)

    async def ask(self, chat_id: int, text: str, *, follows: int | None = None) -> Asked:
        subscriber = await self._subscribers.get(chat_id)
        if subscriber is None:
            return Asked(Ask.NOT_SUBSCRIBED)
        if len(text) > QUESTION_MAX:
            return Asked(Ask.TOO_LONG)
        open_count = await self._questions.open_count(chat_id)
        if open_count >= OPEN_QUESTIONS_MAX:
            return Asked(Ask.TOO_MANY, open_count=open_count)
        question = await self._questions.add(
            chat_id, text, subscriber.role, subscriber.org_kind, subscriber.org_name, follows
        )
        return Asked(Ask.SENT, question)

    async def team(self) -> list[int]:
        """Who gets a new question: the owners (ADMIN_IDS), then the editors, each once."""
        editors = [e.user_id for e in await self._editors.all()]
        return list(dict.fromkeys([*self._settings.admin_ids, *editors]))

    async def answerer_name(self, user_id: int) -> str:
        for editor in await self._editors.all():
            if editor.user_id == user_id and editor.name:
                return editor.name
        subscriber = await self._subscribers.get(user_id)
        if subscriber is not None and subscriber.name:
            return subscriber.name
        return f"редактор {user_id}"

    async def earlier(self, question: Question) -> Question | None:
        """The answered question this one follows, if it is a reply to an answer."""
        if question.follows_id is None:
            return None
        return await self._questions.get(question.follows_id)

    async def can_answer(self, question_id: int) -> Replied:
        """Before an editor writes: is the question still waiting for an answer?"""
        question = await self._questions.get(question_id)
        if question is None:
            return Replied(Reply.NOT_FOUND)
        if question.answered_by is not None:
            name = await self.answerer_name(question.answered_by)
            return Replied(Reply.ALREADY_ANSWERED, question, name, question.answered_at)
        if question.chat_id is None:
            return Replied(Reply.ASKER_GONE, question)
        return Replied(Reply.RECORDED, question)

    async def answer(self, question_id: int, text: str, editor_id: int, now: datetime) -> Replied:
        """Record the answer; of two editors answering at once, the second learns who was
        first and nothing of theirs is sent."""
        question = await self._questions.get(question_id)
        if question is None:
            return Replied(Reply.NOT_FOUND)
        if not await self._questions.answer(question.id, text, editor_id, now):
            fresh = await self._questions.get(question.id)
            by = fresh.answered_by if fresh and fresh.answered_by is not None else editor_id
            at = fresh.answered_at if fresh else None
            return Replied(Reply.ALREADY_ANSWERED, fresh, await self.answerer_name(by), at)
        if question.chat_id is None:
            return Replied(Reply.ASKER_GONE, question)
        return Replied(Reply.RECORDED, question)
