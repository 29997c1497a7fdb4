"""The chat domain without I/O: pair ids, numbering, content rules, file keys and the offer state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chat_service.domain.conversation import Conversation, conversation_id_for
from chat_service.domain.errors import (
    ConversationNotFound,
    FileNotYours,
    InvalidMessage,
    NotOfferParty,
    OfferNotPending,
)
from chat_service.domain.events import message_payload, offer_payload
from chat_service.domain.message import MessageContent
from chat_service.domain.offer import OfferTerms
from chat_service.domain.unread import UnreadNotice

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SELLER, BUYER, STRANGER = "seller-1", "buyer-1", "stranger-1"


def terms(**overrides: object) -> OfferTerms:
    values: dict[str, object] = {
        "gig_id": "gig-1",
        "description": "Logo, 3 concepts",
        "price": 12_500,
        "currency": "USD",
        "delivery_days": 4,
        "expires_at": NOW + timedelta(days=2),
    }
    values.update(overrides)
    return OfferTerms(**values)  # type: ignore[arg-type]


def offer_message() -> tuple[Conversation, MessageContent]:
    conversation = Conversation.between(SELLER, BUYER, NOW)
    content = MessageContent.of(
        sender_id=SELLER, kind="offer", text="", file_key=None, offer=terms(), now=NOW
    )
    return conversation, content


def test_the_pair_id_is_the_same_from_either_side_and_differs_per_pair() -> None:
    assert conversation_id_for("a", "b") == conversation_id_for("b", "a")
    assert conversation_id_for("a", "b") != conversation_id_for("a", "c")
    assert Conversation.between("b", "a", NOW).id == conversation_id_for("a", "b")


def test_no_conversation_with_oneself() -> None:
    with pytest.raises(InvalidMessage):
        Conversation.between("a", "a", NOW)


def test_messages_are_numbered_densely_and_only_participants_post() -> None:
    conversation = Conversation.between("a", "b", NOW)
    text = MessageContent.of(sender_id="a", kind="text", text="hi", file_key=None, offer=None, now=NOW)
    first = conversation.post("a", text, message_id="m1", now=NOW)
    second = conversation.post("b", text, message_id="m2", now=NOW)
    assert (first.seq, first.recipient_id, second.seq, second.recipient_id) == (1, "b", 2, "a")
    with pytest.raises(ConversationNotFound):
        conversation.post("c", text, message_id="m3", now=NOW)


def test_text_is_kept_verbatim_as_data() -> None:
    html = '<script>alert("x")</script> &amp;'
    content = MessageContent.of(sender_id="a", kind="text", text=html, file_key=None, offer=None, now=NOW)
    message = Conversation.between("a", "b", NOW).post("a", content, message_id="m", now=NOW)
    assert message_payload(message)["message"]["text"] == html


@pytest.mark.parametrize(
    ("kind", "text", "file_key", "offer"),
    [
        ("text", "  ", None, None),
        ("text", "x" * 5001, None, None),
        ("text", "hi", "chat/a/f.png", None),
        ("file", "", None, None),
        ("offer", "", None, None),
        ("offer", "", None, terms(price=0)),
        ("offer", "", None, terms(currency="usd")),
        ("offer", "", None, terms(delivery_days=0)),
        ("offer", "", None, terms(expires_at=NOW - timedelta(seconds=1))),
        ("offer", "", None, terms(expires_at=NOW + timedelta(days=31))),
        ("file", "", "gigs/a/f.png", None),
        ("file", "", "chat/a/../x", None),
        ("file", "", "chat/a/", None),
    ],
)
def test_invalid_content_is_refused(
    kind: str, text: str, file_key: str | None, offer: OfferTerms | None
) -> None:
    with pytest.raises(InvalidMessage):
        MessageContent.of(sender_id="a", kind=kind, text=text, file_key=file_key, offer=offer, now=NOW)  # type: ignore[arg-type]


def test_a_file_key_must_be_the_senders_own() -> None:
    with pytest.raises(FileNotYours):
        MessageContent.of(sender_id="a", kind="file", text="", file_key="chat/b/f.png", offer=None, now=NOW)
    ok = MessageContent.of(sender_id="a", kind="file", text="", file_key="chat/a/f.png", offer=None, now=NOW)
    assert ok.file_key == "chat/a/f.png"


def test_the_sender_of_an_offer_is_its_seller_and_only_the_buyer_accepts_once() -> None:
    conversation, content = offer_message()
    message = conversation.post(SELLER, content, message_id="m1", now=NOW)
    offer = message.offer
    assert offer is not None
    assert (offer.seller_id, offer.buyer_id, offer.status, offer.version) == (SELLER, BUYER, "pending", 1)
    with pytest.raises(NotOfferParty):
        offer.respond(SELLER, "accept", NOW)
    with pytest.raises(NotOfferParty):
        offer.respond(BUYER, "withdraw", NOW)
    offer.respond(BUYER, "accept", NOW)
    assert (offer.status, offer.version) == ("accepted", 2)
    with pytest.raises(OfferNotPending):
        offer.respond(BUYER, "accept", NOW)
    with pytest.raises(OfferNotPending):
        offer.respond(SELLER, "withdraw", NOW)
    payload = offer_payload(offer)
    assert payload["participants"] == sorted([SELLER, BUYER])
    assert payload["offer"]["price"] == 12_500
    assert payload["offer"]["status"] == "accepted"


@pytest.mark.parametrize(
    ("actor", "action", "status"), [(BUYER, "decline", "declined"), (SELLER, "withdraw", "withdrawn")]
)
def test_decline_and_withdraw_end_the_offer(actor: str, action: str, status: str) -> None:
    conversation, content = offer_message()
    offer = conversation.post(SELLER, content, message_id="m1", now=NOW).offer
    assert offer is not None
    offer.respond(actor, action, NOW)  # type: ignore[arg-type]
    assert offer.status == status


def test_an_offer_past_its_expiry_reads_expired_and_is_recorded_once() -> None:
    conversation, content = offer_message()
    offer = conversation.post(SELLER, content, message_id="m1", now=NOW).offer
    assert offer is not None
    later = offer.expires_at
    assert offer.status_at(later - timedelta(seconds=1)) == "pending"
    assert offer.status_at(later) == "expired"
    assert offer.expire_if_due(later) is True
    assert offer.expire_if_due(later) is False
    with pytest.raises(OfferNotPending):
        offer.respond(BUYER, "accept", later)


def test_only_the_recipient_marks_a_message_read_and_only_once() -> None:
    conversation = Conversation.between("a", "b", NOW)
    content = MessageContent.of(sender_id="a", kind="text", text="hi", file_key=None, offer=None, now=NOW)
    message = conversation.post("a", content, message_id="m", now=NOW)
    assert message.mark_read("a", NOW) is False
    assert message.mark_read("b", NOW) is True
    assert message.mark_read("b", NOW + timedelta(1)) is False
    assert message.read_at == NOW


def test_an_unread_notice_is_due_once_per_period_and_only_for_newer_messages() -> None:
    notice = UnreadNotice("c", "b", last_sent_at=NOW)
    period = timedelta(hours=1)
    assert not notice.is_due(NOW + timedelta(minutes=5), NOW + timedelta(minutes=10), period)
    assert notice.is_due(NOW + timedelta(minutes=5), NOW + timedelta(hours=1), period)
    assert not notice.is_due(NOW - timedelta(minutes=5), NOW + timedelta(hours=2), period)
