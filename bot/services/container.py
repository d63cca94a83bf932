"""One typed object holding the repositories and use cases; handlers and the timetable's jobs
get it instead of a bag of keyword arguments. Built once per dispatcher by `build_services`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.services.feeds import FeedService
from bot.services.publishing import Publisher
from bot.storage.campaigns import CampaignRepository
from bot.storage.dialogs import DialogStateRepository
from bot.storage.editors import AuditRepository, EditorRepository
from bot.storage.feedback import FeedbackRepository
from bot.storage.items import ItemRepository
from bot.storage.questions import QuestionRepository
from bot.storage.queue import QueueRepository
from bot.storage.reminders import ReminderRepository
from bot.storage.reports import ReportRepository
from bot.storage.subscribers import SubscriberRepository

Wake = Callable[[], None]
"""Tells the delivery engine that new work is in the outbox (it would find it on its next
look anyway; waking only makes it start at once). Services call it; they never see the engine."""


def _no_wake() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Services:
    engine: AsyncEngine
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
    feeds: FeedService
    wake: Wake


def build_services(settings: Settings, engine: AsyncEngine, *, wake: Wake = _no_wake) -> Services:
    publisher = Publisher(engine, settings.tz, channel_id=settings.channel_id)
    return Services(
        engine=engine,
        subscribers=SubscriberRepository(engine),
        dialogs=DialogStateRepository(engine),
        items=publisher.items,
        campaigns=publisher.campaigns,
        reminders=publisher.reminders_repo,
        queue=QueueRepository(engine),
        feedback=FeedbackRepository(engine),
        editors=EditorRepository(engine),
        audit=AuditRepository(engine),
        questions=QuestionRepository(engine),
        reports=ReportRepository(engine),
        publisher=publisher,
        feeds=FeedService(engine, settings.feed_settings()),
        wake=wake,
    )
