"""Gateway bodies for the trading pages' tests, shaped like the gateway's OpenAPI schemas."""

from __future__ import annotations

import json
from typing import Any

import httpx

BUYER, SELLER, STRANGER = "u-buyer", "u-seller", "u-stranger"


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def seller_profile(**changes: Any) -> dict[str, Any]:
    base = {
        "id": SELLER,
        "username": "sam",
        "full_name": "Sam Seller",
        "one_liner": "Illustrations that tell your story",
        "description": "Ten years of editorial and brand illustration.",
        "skills": ["illustration", "branding"],
        "languages": [{"language": "English", "level": "fluent"}],
        "experience": [{"company": "Studio", "title": "Illustrator", "start_year": 2015}],
        "education": [],
        "certificates": [],
        "social_links": [],
        "response_time_hours": 12,
        "country": "NO",
        "member_since": "2026-01-01T00:00:00Z",
        "seller_since": "2026-01-02T00:00:00Z",
        "revision": 3,
        "ratings": {"stars": {}, "rating_sum": 0, "rating_count": 0, "average": None},
        "stats": {
            "ongoing_jobs": 0,
            "completed_jobs": 0,
            "cancelled_jobs": 0,
            "gig_count": 1,
            "earnings": [],
        },
    }
    return {**base, **changes}


def conversation(started: bool = True, **changes: Any) -> dict[str, Any]:
    base = {
        "id": "conv-1",
        "participants": [BUYER, SELLER],
        "other_user": {"id": SELLER, "username": "sam"},
        "started": started,
        "last_message_at": "2026-01-03T10:00:00Z" if started else None,
        "last_seq": 2 if started else 0,
        "unread_count": 0,
    }
    return {**base, **changes}


def offer(status: str = "pending", **changes: Any) -> dict[str, Any]:
    base = {
        "id": "offer-1",
        "conversation_id": "conv-1",
        "message_id": "msg-2",
        "gig_id": "g1",
        "seller_id": SELLER,
        "buyer_id": BUYER,
        "description": "Two illustrations instead of three",
        "price": 3200,
        "currency": "USD",
        "delivery_days": 3,
        "expires_at": "2026-01-05T10:00:00Z",
        "status": status,
        "version": 1,
        "updated_at": "2026-01-03T10:00:00Z",
    }
    return {**base, **changes}


def message(seq: int, sender: str = BUYER, text: str = "hello", **changes: Any) -> dict[str, Any]:
    base = {
        "id": f"msg-{seq}",
        "conversation_id": "conv-1",
        "seq": seq,
        "sender_id": sender,
        "recipient_id": SELLER if sender == BUYER else BUYER,
        "kind": "text",
        "text": text,
        "file_key": None,
        "offer": None,
        "read_at": None,
        "created_at": "2026-01-03T10:00:00Z",
    }
    return {**base, **changes}


def order(status: str = "in_progress", **changes: Any) -> dict[str, Any]:
    base = {
        "id": "order-1",
        "gig_id": "g1",
        "offer_id": "offer-1",
        "buyer_id": BUYER,
        "seller_id": SELLER,
        "status": status,
        "price": 3200,
        "service_fee": 376,
        "total": 3576,
        "seller_earnings": 2560,
        "currency": "USD",
        "delivery_days": 3,
        "due_at": "2099-01-06T10:00:00Z" if status != "awaiting_payment" else None,
        "expires_at": "2099-01-04T10:00:00Z",
        "paid_amount": 0 if status == "awaiting_payment" else 3576,
        "refunded_amount": 0,
        "version": 4,
        "created_at": "2026-01-03T10:00:00Z",
        "updated_at": None,
        "extension": None,
        "delivery": None,
        "buyer_review_id": None,
        "seller_review_id": None,
    }
    return {**base, **changes}
