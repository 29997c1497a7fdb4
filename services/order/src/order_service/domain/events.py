"""Integration events the service publishes and what each transition produces (docs/contracts.md).

Every order event carries `{"order": <state>}` plus the top-level fields the users service reads
(`order_id`, `buyer_id`, `seller_id`; on completion `seller_earnings_minor` and `currency`). Emails are
`order.email.<template>.v1` events addressed to one recipient, rendered by the notification service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from order_service.domain.model import Order, Transition

ORDER_CREATED = "order.order.created.v1"
ORDER_PLACED = "order.order.placed.v1"
ORDER_DELIVERED = "order.order.delivered.v1"
ORDER_COMPLETED = "order.order.completed.v1"
ORDER_CANCELLED = "order.order.cancelled.v1"
ORDER_EXPIRED = "order.order.expired.v1"
EXTENSION_REQUESTED = "order.extension.requested.v1"
EXTENSION_DECIDED = "order.extension.decided.v1"
NOTIFICATION_CREATED = "order.notification.created.v1"

_EVENT_OF_ACTION = {
    "created": ORDER_CREATED,
    "paid": ORDER_PLACED,
    "delivered": ORDER_DELIVERED,
    "completed": ORDER_COMPLETED,
    "cancelled": ORDER_CANCELLED,
    "expired": ORDER_EXPIRED,
    "extension_requested": EXTENSION_REQUESTED,
    "extension_decided": EXTENSION_DECIDED,
}


@dataclass(frozen=True)
class OutgoingEvent:
    type: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Contact:
    """A user as the directory replica knows them (from auth.account.created.v1)."""

    user_id: str
    username: str
    email: str


@dataclass(frozen=True)
class NotificationDraft:
    user_id: str
    kind: str
    text: str


@dataclass(frozen=True)
class EmailDraft:
    recipient_id: str
    template: str
    fields: dict[str, Any]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def order_state(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "gig_id": order.gig_id,
        "offer_id": order.offer_id,
        "buyer_id": order.buyer_id,
        "seller_id": order.seller_id,
        "status": order.status.value,
        "price": order.price,
        "service_fee": order.service_fee,
        "seller_earnings": order.seller_earnings,
        "currency": order.currency,
        "delivery_days": order.delivery_days,
        "due_at": _iso(order.due_at),
        "version": order.version,
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
    }


def order_event(order: Order, transition: Transition) -> OutgoingEvent | None:
    """The event of a transition (None for one that changes no order state, such as a late payment)."""
    event_type = _EVENT_OF_ACTION.get(transition.action)
    if event_type is None:
        return None
    payload: dict[str, Any] = {
        "order": order_state(order),
        "order_id": order.id,
        "buyer_id": order.buyer_id,
        "seller_id": order.seller_id,
        "currency": order.currency,
        "actor": transition.actor,
        "from_status": transition.from_status.value,
    }
    if event_type == ORDER_COMPLETED:
        payload["seller_earnings_minor"] = order.seller_earnings
    if event_type == ORDER_CANCELLED:
        payload["refund_minor"] = transition.refund_due
    if event_type in (EXTENSION_REQUESTED, EXTENSION_DECIDED) and order.extension is not None:
        payload["extension"] = {
            "days": order.extension.days,
            "reason": order.extension.reason,
            "status": order.extension.status.value,
        }
    return OutgoingEvent(event_type, payload)


def notification_event(
    notification_id: str, draft: NotificationDraft, order_id: str, at: datetime
) -> OutgoingEvent:
    return OutgoingEvent(
        NOTIFICATION_CREATED,
        {
            "notification": {
                "id": notification_id,
                "user_id": draft.user_id,
                "order_id": order_id,
                "kind": draft.kind,
                "text": draft.text,
                "created_at": at.isoformat(),
            },
            "user_id": draft.user_id,
            "order_id": order_id,
        },
    )


def _money(amount: int, currency: str) -> str:
    return f"{amount // 100}.{amount % 100:02d} {currency}"


def notifications_for(order: Order, transition: Transition) -> list[NotificationDraft]:
    """Who is told what in their order notifications: the party that did not act (both for system moves)."""
    short = order.id[:8]
    texts: dict[str, list[tuple[str, str]]] = {
        "paid": [
            (order.seller_id, f"New order {short}: due {_iso(order.due_at)}"),
            (order.buyer_id, f"Payment received for order {short}"),
        ],
        "expired": [(order.buyer_id, f"Order {short} expired unpaid")],
        "late_payment_refunded": [(order.buyer_id, f"Order {short} had expired; your payment is refunded")],
        "cancelled": [
            (
                order.buyer_id,
                f"Order {short} was cancelled; {_money(transition.refund_due, order.currency)} refunded",
            ),
            (order.seller_id, f"Order {short} was cancelled"),
        ],
        "extension_requested": [(order.buyer_id, f"The seller asks for more time on order {short}")],
        "extension_decided": [
            (
                order.seller_id,
                f"Your extension request on order {short} was "
                + ("approved" if transition.details.get("approved") else "rejected"),
            )
        ],
        "delivered": [(order.buyer_id, f"Order {short} was delivered")],
        "completed": [(order.seller_id, f"The buyer approved order {short}")],
    }
    return [
        NotificationDraft(user_id=user, kind=transition.action, text=text)
        for user, text in texts.get(transition.action, [])
        if user != transition.actor_id or transition.action == "cancelled"
    ]


def emails_for(order: Order, transition: Transition) -> list[EmailDraft]:
    """The marketplace.md emails of a transition, each to one party (docs/contracts.md templates)."""
    common: dict[str, Any] = {
        "order_id": order.id,
        "gig_id": order.gig_id,
        "price": order.price,
        "service_fee": order.service_fee,
        "total": order.total,
        "currency": order.currency,
        "due_at": _iso(order.due_at),
        # Display forms, so templates need no money arithmetic (two-decimal currencies).
        "price_text": _money(order.price, order.currency),
        "total_text": _money(order.total, order.currency),
        "earnings_text": _money(order.seller_earnings, order.currency),
        "refund_text": _money(transition.refund_due, order.currency),
    }
    action = transition.action
    if action == "paid":
        return [
            EmailDraft(order.seller_id, "order_placed", {**common, "seller_earnings": order.seller_earnings}),
            EmailDraft(order.buyer_id, "order_receipt", {**common, "intent_id": order.payment_intent_id}),
        ]
    if action == "extension_requested" and order.extension is not None:
        fields = {**common, "days": order.extension.days, "reason": order.extension.reason}
        return [EmailDraft(order.buyer_id, "extension_requested", fields)]
    if action == "extension_decided":
        fields = {
            **common,
            "approved": bool(transition.details.get("approved")),
            "days": transition.details.get("days"),
        }
        return [EmailDraft(order.seller_id, "extension_decided", fields)]
    if action == "delivered":
        files = order.delivery.file_keys if order.delivery else []
        return [EmailDraft(order.buyer_id, "order_delivered", {**common, "files": files})]
    if action == "completed":
        fields = {**common, "seller_earnings": order.seller_earnings}
        return [EmailDraft(order.seller_id, "delivery_approved", fields)]
    if action in ("cancelled", "late_payment_refunded"):
        fields = {**common, "refund": transition.refund_due, "cancelled_by": transition.actor}
        # A payment that arrived after expiry concerns only the buyer: the seller never had the order.
        parties = (
            (order.buyer_id,) if action == "late_payment_refunded" else (order.buyer_id, order.seller_id)
        )
        return [EmailDraft(party, "order_cancelled", fields) for party in parties]
    if action == "expired":
        return [EmailDraft(order.buyer_id, "order_expired", common)]
    return []


def email_event(draft: EmailDraft, contact: Contact) -> OutgoingEvent:
    return OutgoingEvent(
        f"order.email.{draft.template}.v1",
        {"to": contact.email, "template": draft.template, "username": contact.username, **draft.fields},
    )


def new_id() -> str:
    return str(uuid.uuid4())
