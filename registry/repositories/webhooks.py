"""Webhook endpoints and deliveries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, func, select

from registry.models import WebhookDeliveryRow, WebhookDeliveryStatus, WebhookEndpointRow
from registry.repositories.base import _Repository, built


class WebhookEndpointRepository(_Repository):
    def add(self, row: WebhookEndpointRow) -> WebhookEndpointRow:
        return self._add(row)

    def of_tenant(self, tenant: str, *, for_update: bool = False) -> WebhookEndpointRow | None:
        def build():  # noqa: ANN202
            stmt = select(WebhookEndpointRow).where(WebhookEndpointRow.tenant == bindparam("tenant"))
            return stmt.with_for_update() if for_update else stmt

        return self._session.execute(built(("endpoint", for_update), build), {"tenant": tenant}).scalar_one_or_none()


class WebhookDeliveryRepository(_Repository):
    def add(self, row: WebhookDeliveryRow) -> WebhookDeliveryRow:
        return self._add(row)

    def due(self, now: dt.datetime, limit: int = 20) -> list[WebhookDeliveryRow]:
        """Pending deliveries whose time has come, locked; other workers skip them (PostgreSQL)."""
        stmt = (select(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.status == WebhookDeliveryStatus.PENDING,
                       WebhookDeliveryRow.next_attempt_at <= now)
                .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id).limit(limit)
                .with_for_update(skip_locked=True))
        return list(self._session.execute(stmt).scalars())

    def pending_count(self, now: dt.datetime) -> tuple[int, int]:
        """(pending deliveries, those of them already due): the queue's depth, read on the status index."""
        pending = WebhookDeliveryRow.status == WebhookDeliveryStatus.PENDING
        due = func.count().filter(WebhookDeliveryRow.next_attempt_at <= now)
        total, late = self._session.execute(select(func.count(), due).where(pending)).one()
        return int(total or 0), int(late or 0)

    def failed_count(self) -> int:
        """Deliveries given up (the dead-letter state), read on the status index."""
        stmt = select(func.count()).where(WebhookDeliveryRow.status == WebhookDeliveryStatus.FAILED)
        return int(self._session.execute(stmt).scalar_one() or 0)

    def by_id(self, delivery_id: int, *, for_update: bool = False) -> WebhookDeliveryRow | None:
        stmt = select(WebhookDeliveryRow).where(WebhookDeliveryRow.id == delivery_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def of_tenant(self, tenant: str, *, subject: str | None = None, limit: int = 100) -> list[WebhookDeliveryRow]:
        stmt = select(WebhookDeliveryRow).where(WebhookDeliveryRow.tenant == tenant)
        if subject is not None:
            stmt = stmt.where(WebhookDeliveryRow.subject == subject)
        return list(self._session.execute(stmt.order_by(WebhookDeliveryRow.id).limit(limit)).scalars())
