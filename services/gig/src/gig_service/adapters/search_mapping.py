"""The explicit mapping of the gig search read model and the document it indexes for one gig version."""

from __future__ import annotations

from typing import Any

from gig_service.domain.model import Gig

_TEXT_WITH_KEYWORD = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}

GIG_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "seller_id": {"type": "keyword"},
        "title": _TEXT_WITH_KEYWORD,
        "description": {"type": "text"},
        "category": _TEXT_WITH_KEYWORD,
        "sub_categories": _TEXT_WITH_KEYWORD,
        "tags": _TEXT_WITH_KEYWORD,
        "price": {"type": "long"},
        "currency": {"type": "keyword"},
        "delivery_days": {"type": "integer"},
        "cover_image_key": {"type": "keyword", "index": False},
        "rating_average": {"type": "float"},
        "rating_count": {"type": "integer"},
        "seller_username": {"type": "keyword"},
        "seller_full_name": {"type": "text"},
        "seller_rating_average": {"type": "float"},
        "seller_rating_count": {"type": "integer"},
        "active": {"type": "boolean"},
        "deleted": {"type": "boolean"},
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
        "version": {"type": "long"},
    },
}
GIG_INDEX_SETTINGS: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}


def search_document(gig: dict[str, Any], version: int) -> dict[str, Any]:
    """The indexed form of a gig's event state. Deleted gigs stay as tombstones (`deleted: true`): the
    stored version then keeps refusing a late older event, which removing the document would not."""
    return {
        "id": gig["id"],
        "seller_id": gig["seller_id"],
        "title": gig["title"],
        "description": gig["description"],
        "category": gig["category"],
        "sub_categories": list(gig.get("sub_categories") or []),
        "tags": list(gig.get("tags") or []),
        "price": gig["price"],
        "currency": gig["currency"],
        "delivery_days": gig["delivery_days"],
        "cover_image_key": gig.get("cover_image_key"),
        "rating_average": float(gig.get("rating_average") or 0.0),
        "rating_count": int(gig.get("rating_count") or 0),
        # Events from before the seller fields existed lack them: indexed as not yet known.
        "seller_username": gig.get("seller_username"),
        "seller_full_name": gig.get("seller_full_name"),
        "seller_rating_average": float(gig.get("seller_rating_average") or 0.0),
        "seller_rating_count": int(gig.get("seller_rating_count") or 0),
        "active": bool(gig["active"]) and not gig.get("deleted", False),
        "deleted": bool(gig.get("deleted", False)),
        "created_at": gig["created_at"],
        "updated_at": gig["updated_at"],
        "version": version,
    }


def document_of(gig: Gig, version: int) -> dict[str, Any]:
    return search_document(gig.state(), version)
