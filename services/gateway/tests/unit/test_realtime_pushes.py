"""Which pushes an event becomes and to whom: only the users the event names, never everyone."""

from __future__ import annotations

from gateway_service.domain.pushes import REALTIME_ROUTING_KEYS, Push, pushes_for
from servicekit.events import subscription


def test_the_gateway_queue_binds_exactly_what_the_pushes_handle() -> None:
    assert subscription("gateway.realtime").routing_keys == REALTIME_ROUTING_KEYS


def test_chat_messages_go_to_both_participants_only() -> None:
    message = {"id": "m1", "text": "<b>hi</b>", "sender_id": "a", "recipient_id": "b"}
    for event_type, name in (
        ("chat.message.created.v1", "message.created"),
        ("chat.message.updated.v1", "message.updated"),
    ):
        assert pushes_for(event_type, {"message": message, "participants": ["a", "b"]}) == [
            Push(name, ("a", "b"), message)
        ]


def test_offer_updates_go_to_both_parties() -> None:
    offer = {"id": "o1", "status": "accepted", "seller_id": "s", "buyer_id": "b"}
    assert pushes_for("chat.offer.updated.v1", {"offer": offer, "participants": ["b", "s"]}) == [
        Push("offer.updated", ("b", "s"), offer)
    ]


def test_order_events_go_to_buyer_and_seller() -> None:
    payload = {
        "order": {"id": "o", "buyer_id": "b", "seller_id": "s", "status": "in_progress"},
        "order_id": "o",
    }
    [push] = pushes_for("order.order.placed.v1", payload)
    assert (push.event, push.user_ids, push.data["type"]) == (
        "order.updated",
        ("b", "s"),
        "order.order.placed.v1",
    )
    [extension] = pushes_for(
        "order.extension.requested.v1", {"order_id": "o", "buyer_id": "b", "seller_id": "s"}
    )
    assert extension.user_ids == ("b", "s")


def test_a_notification_goes_to_its_user() -> None:
    notification = {"id": "n", "user_id": "u", "text": "Delivered"}
    assert pushes_for("order.notification.created.v1", {"notification": notification}) == [
        Push("notification.created", ("u",), notification)
    ]


def test_events_that_name_nobody_push_nothing() -> None:
    assert pushes_for("chat.message.created.v1", {"message": {"id": "m"}}) == []
    assert pushes_for("chat.message.created.v1", {"message": {"id": "m"}, "participants": "a"}) == []
    assert pushes_for("order.order.placed.v1", {"order": {"id": "o"}}) == []
    assert pushes_for("gig.gig.created.v1", {"gig": {}}) == []
