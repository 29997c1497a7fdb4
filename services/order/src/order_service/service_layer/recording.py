"""What every accepted transition writes in its own transaction: history, event, notifications, emails and,
when money must go back, a durable refund job (run outside the transaction by `payments.run_refund_jobs`)."""

from __future__ import annotations

import logging
from datetime import datetime

from order_service.domain.events import (
    email_event,
    emails_for,
    new_id,
    notification_event,
    notifications_for,
    order_event,
)
from order_service.domain.model import Order, Transition
from order_service.service_layer.ports import UnitOfWork

logger = logging.getLogger(__name__)


async def record(uow: UnitOfWork, order: Order, transition: Transition, now: datetime) -> None:
    """Call after `uow.orders.save`/`add` so the event carries the new version."""
    await uow.orders.append_history(order, transition, now)
    event = order_event(order, transition)
    if event is not None:
        uow.publish(event)
    for draft in notifications_for(order, transition):
        notification_id = new_id()
        await uow.notifications.add(notification_id, draft, order.id, now)
        uow.publish(notification_event(notification_id, draft, order.id, now))
    for email in emails_for(order, transition):
        contact = await uow.replicas.contact(email.recipient_id)
        if contact is None:
            # The directory replica lacks the user (not yet consumed, or not backfilled): no address to
            # write to. The notification above still tells them; backfill repairs future emails.
            logger.warning("no directory entry for %s; %s email not sent", email.recipient_id, email.template)
            continue
        uow.publish(email_event(email, contact))
    if transition.refund_due > 0 and order.payment_intent_id is not None:
        await uow.payments.add_refund_job(order.id, order.payment_intent_id, transition.refund_due, now)
