"""One typed object holding the repositories and use cases; handlers and the timetable's jobs
get it instead of a bag of keyword arguments. Built once per dispatcher by `build_services`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.services.feeds import FeedService
from bot.services.moderation import ModerationService
from bot.services.posts import PostService
from bot.services.privacy import PrivacyService
from bot.services.publishing import Publisher
from bot.services.questions import QuestionService
from bot.services.wake import Wake, no_wake
from bot.storage.campaigns import CampaignRepository
from bot.storage.database import Database
from bot.storage.dialogs import DialogStateRepository
from bot.storage.editors import AuditRepository, EditorRepository
from bot.storage.feedback import FeedbackRepository
from bot.storage.items import ItemRepository
from bot.storage.questions import QuestionRepository
from bot.storage.queue import QueueRepository
from bot.storage.reminders import ReminderRepository
from bot.storage.reports import ReportRepository
from bot.storage.subscribers import SubscriberRepository


@dataclass(frozen=True, slots=True)
class Services:
    engine: Database
    subscribers: SubscriberRepository
    dialogs: DialogStateRepository
    items: ItemRepository
    campaigns: CampaignRepository
    reminders: ReminderRepository
    queue: QueueRepository
    feedback: FeedbackRepository
    editors: EditorRepository
    audit: AuditRepository
    questions: QuestionRepository
    reports: ReportRepository
    publisher: Publisher
    posts: PostService
    moderation: ModerationService
    asking: QuestionService
    feeds: FeedService
    privacy: PrivacyService
    wake: Wake


def build_services(settings: Settings, engine: Database, *, wake: Wake = no_wake) -> Services:
    publisher = Publisher(engine, settings.tz, channel_id=settings.channel_id)
    queue = QueueRepository(engine)
    subscribers = SubscriberRepository(engine)
    questions = QuestionRepository(engine)
    editors = EditorRepository(engine)
    # One bot process per SQLite file (the instance lock): dialog states may be remembered.
    dialogs = DialogStateRepository(engine, remember_empty=engine.dialect.name == "sqlite")
    return Services(
        engine=engine,
        subscribers=subscribers,
        dialogs=dialogs,
        items=publisher.items,
        campaigns=publisher.campaigns,
        reminders=publisher.reminders_repo,
        queue=queue,
        feedback=FeedbackRepository(engine),
        editors=editors,
        audit=AuditRepository(engine),
        questions=questions,
        reports=ReportRepository(engine),
        publisher=publisher,
        posts=PostService(publisher.items, queue, publisher, settings.tz, wake),
        moderation=ModerationService(queue, settings.tz),
        asking=QuestionService(questions, subscribers, editors, settings),
        feeds=FeedService(engine, settings.feed_settings()),
        privacy=PrivacyService(engine, settings.forget_key_path()),
        wake=wake,
    )
