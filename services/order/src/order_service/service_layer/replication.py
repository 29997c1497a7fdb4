"""Applying other services' events to the replicas, each once per event id (`claim`) and by version."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from typing import Any

from order_service.domain.errors import InvalidOrderRequest
from order_service.domain.events import Contact
from order_service.domain.replicas import gig_from_event, offer_from_event
from order_service.service_layer.dependencies import HandlerDependencies

CONSUMER = "order.events"


async def apply_event(
    event_id: uuid.UUID, event_type: str, payload: Mapping[str, Any], deps: HandlerDependencies
) -> bool:
    """Returns False for a duplicate. Raises `InvalidOrderRequest` for a payload that can never apply."""
    async with deps.new_uow() as uow:
        if not await uow.claim(CONSUMER, event_id):
            return False
        if event_type.startswith("gig.gig."):
            await uow.replicas.put_gig(gig_from_event(payload))
        elif event_type.startswith("chat.offer."):
            await uow.replicas.put_offer(offer_from_event(payload))
        elif event_type == "auth.account.created.v1":
            await uow.replicas.put_contact(contact_from_payload(payload))
        elif event_type == "review.review.created.v1":
            await _apply_review(uow, payload)
        await uow.commit()
    return True


def contact_from_payload(payload: Mapping[str, Any]) -> Contact:
    values = [payload.get(name) for name in ("user_id", "username", "email")]
    if not all(isinstance(value, str) and value for value in values):
        raise InvalidOrderRequest("account event needs user_id, username and email")
    user_id, username, email = (str(value) for value in values)
    with contextlib.suppress(ValueError):
        user_id = str(uuid.UUID(user_id))
    return Contact(user_id=user_id, username=username, email=email)


async def _apply_review(uow: Any, payload: Mapping[str, Any]) -> None:
    order_id, role, review_id = (payload.get(name) for name in ("order_id", "reviewer_role", "review_id"))
    if not all(isinstance(value, str) for value in (order_id, role, review_id)) or role not in (
        "buyer",
        "seller",
    ):
        raise InvalidOrderRequest("review event needs order_id, reviewer_role and review_id")
    await uow.orders.set_review(order_id, role, review_id)
