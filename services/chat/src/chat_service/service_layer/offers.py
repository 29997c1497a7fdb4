"""Offers expire when their time comes, not only when someone next reads them (docs/adr/0019).

Run periodically by every replica. The sweep lists pending offers past `expires_at` (index
`pending_offer_expiry`), then records each expiry by the same versioned write of the offer's message that
stages `chat.offer.updated.v1` (status `expired`) and `chat.message.updated.v1` in its outbox. That write
is the claim: FerretDB has no `SKIP LOCKED`, but of two replicas writing one message at one version only
one succeeds; the other re-runs, finds the offer no longer pending and does nothing. So each expiry is
recorded and announced exactly once, whichever replica (or reader, `respond_to_offer`) gets there first.
"""

from __future__ import annotations

import logging
from functools import partial

from servicekit.mongo import ConcurrentUpdateError

from chat_service.domain.events import message_updated, offer_updated
from chat_service.service_layer.dependencies import HandlerDeps
from chat_service.service_layer.messaging import retrying

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 500  # per round; a longer backlog is finished by the next rounds


async def expire_due_offers(deps: HandlerDeps, *, limit: int = SWEEP_LIMIT) -> int:
    """Record the due expiries; returns how many this call recorded (others' are not counted)."""
    async with deps.new_uow() as uow:
        due = await uow.messages.pending_offers_due(deps.clock(), limit=limit)
    expired = 0
    for message_id in due:
        try:
            if await retrying(partial(_expire, message_id, deps)):
                expired += 1
        except ConcurrentUpdateError:
            continue  # lost every attempt to other writers: one of them recorded it
    return expired


async def _expire(message_id: str, deps: HandlerDeps) -> bool:
    now = deps.clock()
    async with deps.new_uow() as uow:
        message = await uow.messages.get(message_id)
        if message is None or message.offer is None or not message.offer.expire_if_due(now):
            return False  # accepted, declined, withdrawn or expired meanwhile
        uow.messages.update(message, [offer_updated(message.offer), message_updated(message)])
        await uow.commit()
        return True
