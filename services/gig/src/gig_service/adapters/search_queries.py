"""Pure builders of the read model's queries: no client, so every shape is unit-tested.

Full text uses `multi_match` over title, tags, categories and description (never `query_string`, whose
syntax a client could use to run expensive or failing queries). Only active, not deleted gigs are found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

SearchSort = Literal["relevance", "price_asc", "price_desc", "rating", "newest"]

TEXT_FIELDS = ["title^3", "tags^2", "category^2", "sub_categories", "description"]
PRICE_RANGES = [
    {"key": "under_25", "to": 2500},
    {"key": "25_to_100", "from": 2500, "to": 10000},
    {"key": "100_to_500", "from": 10000, "to": 50000},
    {"key": "500_and_up", "from": 50000},
]
SORTS: dict[str, list[dict[str, Any]]] = {
    "relevance": [{"_score": "desc"}, {"rating_average": "desc"}],
    "price_asc": [{"price": "asc"}],
    "price_desc": [{"price": "desc"}],
    "rating": [{"rating_average": "desc"}, {"rating_count": "desc"}],
    "newest": [{"created_at": "desc"}],
}
FACETS: dict[str, Any] = {
    "categories": {"terms": {"field": "category.keyword", "size": 50}},
    "price_ranges": {"range": {"field": "price", "ranges": PRICE_RANGES}},
}


@dataclass(frozen=True)
class GigQuery:
    text: str | None = None
    category: str | None = None
    seller_id: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    max_delivery_days: int | None = None


def visible() -> list[dict[str, Any]]:
    return [{"term": {"active": True}}, {"term": {"deleted": False}}]


def build_query(query: GigQuery) -> dict[str, Any]:
    filters = visible()
    if query.category:
        filters.append({"term": {"category.keyword": query.category}})
    if query.seller_id:
        filters.append({"term": {"seller_id": query.seller_id}})
    price: dict[str, int] = {}
    if query.min_price is not None:
        price["gte"] = query.min_price
    if query.max_price is not None:
        price["lte"] = query.max_price
    if price:
        filters.append({"range": {"price": price}})
    if query.max_delivery_days is not None:
        filters.append({"range": {"delivery_days": {"lte": query.max_delivery_days}}})
    must: list[dict[str, Any]] = []
    if query.text and query.text.strip():
        must.append(
            {
                "multi_match": {
                    "query": query.text,
                    "fields": TEXT_FIELDS,
                    "type": "best_fields",
                    "operator": "and",
                    "fuzziness": "AUTO",
                }
            }
        )
    return {"bool": {"filter": filters, "must": must or [{"match_all": {}}]}}


def similar_query(index: str, gig_id: str) -> dict[str, Any]:
    return {
        "bool": {
            "must": [
                {
                    "more_like_this": {
                        "fields": ["title", "tags", "description", "category"],
                        "like": [{"_index": index, "_id": gig_id}],
                        "min_term_freq": 1,
                        "min_doc_freq": 1,
                        "max_query_terms": 25,
                    }
                }
            ],
            "filter": visible(),
            "must_not": [{"term": {"id": gig_id}}],
        }
    }
