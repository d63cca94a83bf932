"""Campaigns and their fan-out into the deliveries outbox."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.content.models import (
    Audience,
    Button,
    ButtonAction,
    Campaign,
    CampaignCounts,
    CampaignKind,
    CampaignStatus,
    DeliveryStatus,
    MessagePart,
    SubscriberStatus,
)
from bot.storage.database import Connection, Database
from bot.storage.db import as_utc, utcnow
from bot.storage.schema import (
    UtcDateTime,
    campaign_variants,
    campaigns,
    deliveries,
    subscribers,
)

SINGLE_VARIANT = "*"


def encode_parts(parts: Sequence[MessagePart]) -> str:
    """Parts as JSON; what a part leaves unset (no file, no buttons) is left out."""
    return json.dumps(
        [
            {k: v for k, v in asdict(part).items() if v is not None and (v or k == "text")}
            for part in parts
        ],
        ensure_ascii=False,
    )


def _button(data: Mapping[str, Any]) -> Button:
    return Button(str(data["text"]), ButtonAction(data["action"]), data.get("item_id"))


def decode_parts(text: str) -> tuple[MessagePart, ...]:
    return tuple(
        MessagePart(
            text=p["text"],
            entities=tuple(p.get("entities") or ()),
            photo=p.get("photo"),
            document=p.get("document"),
            buttons=tuple(tuple(_button(b) for b in row) for row in p.get("buttons") or ()),
            preview_url=p.get("preview_url"),
        )
        for p in json.loads(text)
    )


def _signature_sql() -> sa.ColumnElement[str]:
    """The SQL twin of content.models.preference_signature, for the digest fan-out join."""
    s = subscribers.c
    return (
        s.frequency
        + "|"
        + s.topics
        + "|"
        + sa.func.coalesce(s.role, "")
        + "|"
        + sa.func.coalesce(s.org_kind, "")
    )


def _like_code(column: sa.ColumnElement[str], code: str) -> sa.ColumnElement[bool]:
    """`column` (comma-separated codes) contains `code`."""
    return ("," + column + ",").like(f"%,{code},%")


def _to_campaign(row: Any) -> Campaign:
    return Campaign(
        id=row.id,
        key=row.key,
        kind=CampaignKind(row.kind),
        title=row.title,
        status=CampaignStatus(row.status),
        total=row.total,
        urgent=bool(row.urgent),
        item_id=row.item_id,
        created_by=row.created_by,
        progress_chat_id=row.progress_chat_id,
        progress_message_id=row.progress_message_id,
        created_at=as_utc(row.created_at),
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
    )


def _audience_conditions(audience: Audience) -> list[sa.ColumnElement[bool]]:
    """Who a campaign's audience is: active, signed-up subscribers matching its filters."""
    s = subscribers.c
    conditions: list[sa.ColumnElement[bool]] = [
        s.status == SubscriberStatus.ACTIVE.value,
        s.onboarded_at.is_not(None),
    ]
    if audience.frequency is not None:
        conditions.append(s.frequency == audience.frequency.value)
    if audience.topic is not None:
        conditions.append(_like_code(s.topics, audience.topic.value))
    if audience.roles:
        conditions.append(s.role.in_([r.value for r in audience.roles]))
    if audience.org_kinds:
        conditions.append(s.org_kind.in_([o.value for o in audience.org_kinds]))
    if audience.chat_ids is not None:
        conditions.append(s.chat_id.in_(audience.chat_ids))
    return conditions


async def _insert_campaign(
    conn: Connection,
    key: str,
    kind: CampaignKind,
    title: str,
    now: datetime,
    *,
    urgent: bool,
    item_id: int | None,
    created_by: int | None,
    progress_chat_id: int | None,
) -> int:
    """The campaign row, sending from `now`; raises IntegrityError when the key is taken."""
    inserted = await conn.execute(
        campaigns.insert()
        .values(
            key=key,
            kind=kind.value,
            title=title[:300],
            item_id=item_id,
            urgent=urgent,
            status=CampaignStatus.SENDING.value,
            created_by=created_by,
            progress_chat_id=progress_chat_id,
            created_at=now,
            started_at=now,
        )
        .returning(campaigns.c.id)
    )
    campaign_id: int = inserted.scalar_one()
    return campaign_id


async def _set_total(conn: Connection, campaign_id: int, total: int, now: datetime) -> None:
    """Record the fan-out's size; a campaign that reaches nobody is done at once."""
    values: dict[str, Any] = {"total": total}
    if total == 0:
        values.update(status=CampaignStatus.DONE.value, finished_at=now)
    await conn.execute(campaigns.update().where(campaigns.c.id == campaign_id).values(**values))


# A campaign's counts folded by retention, in the order campaign_counts reads them.
FOLDED_COLUMNS = (campaigns.c.folded_sent, campaigns.c.folded_failed, campaigns.c.folded_blocked)


def campaign_counts(by_status: Mapping[str, int], folded: Sequence[int] | None) -> CampaignCounts:
    """Counts from the outbox's rows by status plus what retention folded (sent, failed,
    blocked: a campaign is folded only once nothing of it is pending)."""
    sent, failed, blocked = (int(n or 0) for n in folded) if folded is not None else (0, 0, 0)
    live_total = sum(by_status.values())
    return CampaignCounts(
        total=live_total + sent + failed + blocked,
        sent=by_status.get(DeliveryStatus.SENT.value, 0) + sent,
        failed=by_status.get(DeliveryStatus.FAILED.value, 0) + failed,
        blocked=by_status.get(DeliveryStatus.BLOCKED.value, 0) + blocked,
        pending=by_status.get(DeliveryStatus.PENDING.value, 0),
    )


class CampaignRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def create(
        self,
        key: str,
        kind: CampaignKind,
        title: str,
        variants: Mapping[str, Sequence[MessagePart]],
        audience: Audience,
        *,
        urgent: bool = False,
        item_id: int | None = None,
        created_by: int | None = None,
        progress_chat_id: int | None = None,
        now: datetime | None = None,
    ) -> Campaign | None:
        """Create the campaign, its variants and one pending delivery per recipient, atomically.

        Returns None when a campaign with this key already exists: the slot has been taken,
        by an earlier run, a restart or another instance. A single-variant campaign passes
        {SINGLE_VARIANT: parts}.
        """
        now = now or utcnow()
        try:
            async with self._engine.begin() as conn:
                campaign_id = await _insert_campaign(
                    conn, key, kind, title, now, urgent=urgent, item_id=item_id,
                    created_by=created_by, progress_chat_id=progress_chat_id,
                )  # fmt: skip
                if variants:
                    await conn.execute(
                        campaign_variants.insert(),
                        [
                            {
                                "campaign_id": campaign_id,
                                "signature": sig,
                                "parts": encode_parts(p),
                            }
                            for sig, p in variants.items()
                        ],
                    )
                total = await self._fan_out(conn, campaign_id, audience, now)
                await _set_total(conn, campaign_id, total, now)
        except IntegrityError:
            if await self.get_by_key(key) is not None:
                return None
            raise
        return await self.get(campaign_id)

    async def sent_messages(self, keys: Sequence[str]) -> int:
        """How many messages the campaigns with these keys have delivered (an edit's reach)."""
        async with self._engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(
                        deliveries.join(campaigns, campaigns.c.id == deliveries.c.campaign_id)
                    )
                    .where(
                        campaigns.c.key.in_(list(keys)),
                        deliveries.c.status == DeliveryStatus.SENT.value,
                        deliveries.c.message_id.is_not(None),
                        deliveries.c.chat_id.is_not(None),
                    )
                )
            ).scalar_one()

    async def variant_count(self, key: str) -> int | None:
        """How many messages each recipient of the campaign got (its single variant's parts)."""
        campaign = await self.get_by_key(key)
        if campaign is None:
            return None
        async with self._engine.connect() as conn:
            text = (
                await conn.execute(
                    sa.select(campaign_variants.c.parts)
                    .where(campaign_variants.c.campaign_id == campaign.id)
                    .limit(1)
                )
            ).scalar_one_or_none()
        return len(decode_parts(text)) if text is not None else None

    async def create_edit(
        self,
        key: str,
        title: str,
        part: MessagePart,
        source_keys: Sequence[str],
        *,
        item_id: int | None = None,
        created_by: int | None = None,
        progress_chat_id: int | None = None,
        now: datetime | None = None,
    ) -> Campaign | None:
        """An edit campaign: one pending delivery per message the `source_keys` campaigns have
        sent, carrying that message's id, so the sender changes it to `part` instead of sending.
        Only the first message of a delivery is recorded (`message_id`), so a multi-part post
        can have only its first part edited. None when the key is taken.

        Urgent: an edit notifies nobody, so quiet hours don't hold it back.
        """
        now = now or utcnow()
        d = deliveries.c
        try:
            async with self._engine.begin() as conn:
                campaign_id = await _insert_campaign(
                    conn, key, CampaignKind.EDIT, title, now, urgent=True, item_id=item_id,
                    created_by=created_by, progress_chat_id=progress_chat_id,
                )  # fmt: skip
                variant_id = (
                    await conn.execute(
                        campaign_variants.insert()
                        .values(
                            campaign_id=campaign_id,
                            signature=SINGLE_VARIANT,
                            parts=encode_parts([part]),
                        )
                        .returning(campaign_variants.c.id)
                    )
                ).scalar_one()
                sent = (
                    sa.select(
                        sa.literal(campaign_id, sa.BigInteger).label("campaign_id"),
                        d.chat_id,
                        sa.literal(variant_id, sa.BigInteger).label("variant_id"),
                        sa.literal(DeliveryStatus.PENDING.value).label("status"),
                        sa.literal(now, UtcDateTime()).label("next_attempt_at"),
                        d.message_id,
                    )
                    .select_from(deliveries.join(campaigns, campaigns.c.id == d.campaign_id))
                    .where(
                        campaigns.c.key.in_(list(source_keys)),
                        d.status == DeliveryStatus.SENT.value,
                        d.message_id.is_not(None),
                        d.chat_id.is_not(None),
                    )
                )
                result = await conn.execute(
                    deliveries.insert().from_select(
                        [
                            "campaign_id",
                            "chat_id",
                            "variant_id",
                            "status",
                            "next_attempt_at",
                            "message_id",
                        ],
                        sent,
                    )
                )
                await _set_total(conn, campaign_id, result.rowcount or 0, now)
        except IntegrityError:
            if await self.get_by_key(key) is not None:
                return None
            raise
        return await self.get(campaign_id)

    async def _fan_out(
        self, conn: Connection, campaign_id: int, audience: Audience, now: datetime
    ) -> int:
        if audience.direct:
            return await self._fan_out_direct(conn, campaign_id, audience.chat_ids or (), now)
        s = subscribers.c
        v = campaign_variants.c
        conditions = _audience_conditions(audience)
        join_on = v.campaign_id == campaign_id
        if audience.by_signature:
            join_on = sa.and_(join_on, v.signature == _signature_sql())
        else:
            join_on = sa.and_(join_on, v.signature == SINGLE_VARIANT)
        select = (
            sa.select(
                sa.literal(campaign_id, sa.BigInteger).label("campaign_id"),
                s.chat_id,
                v.id,
                sa.literal(DeliveryStatus.PENDING.value).label("status"),
                sa.literal(now, UtcDateTime()).label("next_attempt_at"),
            )
            .select_from(subscribers.join(campaign_variants, join_on))
            .where(*conditions)
        )
        result = await conn.execute(
            deliveries.insert().from_select(
                ["campaign_id", "chat_id", "variant_id", "status", "next_attempt_at"], select
            )
        )
        return result.rowcount or 0

    async def audience_size(self, audience: Audience) -> int:
        """How many subscribers a campaign for `audience` would reach now (not `direct` ones)."""
        async with self._engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        sa.select(sa.func.count())
                        .select_from(subscribers)
                        .where(*_audience_conditions(audience))
                    )
                ).scalar_one()
            )

    async def _fan_out_direct(
        self, conn: Connection, campaign_id: int, chat_ids: tuple[int, ...], now: datetime
    ) -> int:
        variant_id = (
            await conn.execute(
                sa.select(campaign_variants.c.id).where(
                    campaign_variants.c.campaign_id == campaign_id,
                    campaign_variants.c.signature == SINGLE_VARIANT,
                )
            )
        ).scalar_one()
        rows = [
            {"campaign_id": campaign_id, "chat_id": chat_id, "variant_id": variant_id,
             "status": DeliveryStatus.PENDING.value, "next_attempt_at": now}
            for chat_id in dict.fromkeys(chat_ids)
        ]  # fmt: skip
        if rows:
            await conn.execute(deliveries.insert(), rows)
        return len(rows)

    async def get(self, campaign_id: int) -> Campaign | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(campaigns.select().where(campaigns.c.id == campaign_id))
            ).first()
        return _to_campaign(row) if row else None

    async def get_by_key(self, key: str) -> Campaign | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(campaigns.select().where(campaigns.c.key == key))).first()
        return _to_campaign(row) if row else None

    async def counts(self, campaign_id: int) -> CampaignCounts:
        """Its deliveries by status: those folded by retention plus those still in the outbox."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(deliveries.c.status, sa.func.count())
                .where(deliveries.c.campaign_id == campaign_id)
                .group_by(deliveries.c.status)
            )
            by_status: dict[str, int] = dict(rows.all())
            folded = (
                await conn.execute(sa.select(*FOLDED_COLUMNS).where(campaigns.c.id == campaign_id))
            ).first()
        return campaign_counts(by_status, folded)

    async def folded(self, keys: Sequence[str]) -> bool:
        """Whether retention has folded deliveries of any of these campaigns (their sent
        messages' ids are gone: /edit can no longer change those messages)."""
        async with self._engine.connect() as conn:
            found = (
                await conn.execute(
                    sa.select(campaigns.c.id)
                    .where(campaigns.c.key.in_(list(keys)), campaigns.c.folded_at.is_not(None))
                    .limit(1)
                )
            ).first()
        return found is not None

    async def variant_parts(self, variant_id: int) -> tuple[MessagePart, ...]:
        async with self._engine.connect() as conn:
            text = (
                await conn.execute(
                    sa.select(campaign_variants.c.parts).where(
                        campaign_variants.c.id == variant_id
                    )
                )
            ).scalar_one()
        return decode_parts(text)

    async def in_progress(self) -> list[Campaign]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                campaigns.select()
                .where(
                    campaigns.c.status.in_(
                        [CampaignStatus.SENDING.value, CampaignStatus.PAUSED.value]
                    )
                )
                .order_by(campaigns.c.id)
            )
            return [_to_campaign(row) for row in rows]

    async def pending_total(self) -> int:
        async with self._engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        deliveries.c.status == DeliveryStatus.PENDING.value
                    )
                )
            ).scalar_one()
