"""Which realtime pushes an event from the bus becomes, and to whom (docs/contracts.md, "Realtime pushes").

Each push goes to the rooms of the users named in the event itself (one room per user id), never to every
socket: the reference broadcast each message to everyone connected; here a user receives only what
concerns them. Pure: the consumer in entrypoints/realtime.py does the emitting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"
OFFER_UPDATED = "offer.updated"
ORDER_UPDATED = "order.updated"
NOTIFICATION_CREATED = "notification.created"
PRESENCE_CHANGED = "presence.changed"
# Sent by a replica to its own sockets after its Redis subscription was interrupted: fetch after last seq.
RESYNC = "realtime.resync"

# The bindings of the gateway's queue `gateway.realtime` (servicekit.events.subscriptions).
REALTIME_ROUTING_KEYS: tuple[str, ...] = (
    "chat.message.#",
    "chat.offer.#",
    "order.order.#",
    "order.extension.#",
    "order.notification.created.v1",
)


@dataclass(frozen=True)
class Push:
    event: str
    user_ids: tuple[str, ...]
    data: dict[str, Any]


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def presence_room(user_id: str) -> str:
    return f"presence:{user_id}"


def pushes_for(event_type: str, payload: Mapping[str, Any]) -> list[Push]:
    """The pushes for one event; an event that names nobody (or is not ours) pushes nothing."""
    if event_type in ("chat.message.created.v1", "chat.message.updated.v1"):
        name = MESSAGE_CREATED if event_type == "chat.message.created.v1" else MESSAGE_UPDATED
        return _to(name, payload.get("participants"), payload.get("message"))
    if event_type == "chat.offer.updated.v1":
        return _to(OFFER_UPDATED, payload.get("participants"), payload.get("offer"))
    if event_type.startswith(("order.order.", "order.extension.")):
        order = payload.get("order")
        state = order if isinstance(order, Mapping) else payload
        parties = [
            state.get("buyer_id", payload.get("buyer_id")),
            state.get("seller_id", payload.get("seller_id")),
        ]
        return _to(ORDER_UPDATED, parties, {**payload, "type": event_type})
    if event_type == "order.notification.created.v1":
        notification = payload.get("notification")
        if isinstance(notification, Mapping):
            return _to(NOTIFICATION_CREATED, [notification.get("user_id")], notification)
    return []


def _to(event: str, users: object, data: object) -> list[Push]:
    if not isinstance(users, list | tuple) or not isinstance(data, Mapping):
        return []
    user_ids = tuple(dict.fromkeys(u for u in users if isinstance(u, str) and u))
    return [Push(event, user_ids, dict(data))] if user_ids else []
