"""The read model's query shapes: filters always hide paused and deleted gigs; never `query_string`."""

from __future__ import annotations

import json

from gig_service.adapters.search_mapping import GIG_MAPPINGS, search_document
from gig_service.adapters.search_queries import GigQuery, build_query, similar_query


def test_search_filters_visible_category_price_and_delivery() -> None:
    query = build_query(GigQuery("logo", "design", None, 100, 900, 5))
    filters = query["bool"]["filter"]
    assert {"term": {"active": True}} in filters
    assert {"term": {"deleted": False}} in filters
    assert {"term": {"category.keyword": "design"}} in filters
    assert {"range": {"price": {"gte": 100, "lte": 900}}} in filters
    assert {"range": {"delivery_days": {"lte": 5}}} in filters
    assert query["bool"]["must"][0]["multi_match"]["query"] == "logo"


def test_client_text_never_reaches_query_string_syntax() -> None:
    for query in (build_query(GigQuery('title:* OR "x')), similar_query("gigs", "g1")):
        assert "query_string" not in json.dumps(query)


def test_similar_excludes_the_gig_itself_and_hidden_gigs() -> None:
    query = similar_query("gigs", "g1")["bool"]
    assert query["must_not"] == [{"term": {"id": "g1"}}]
    assert {"term": {"active": True}} in query["filter"]


def test_indexed_document_uses_only_mapped_fields_and_deleted_is_inactive() -> None:
    state = {
        "id": "g1", "seller_id": "s", "title": "t", "description": "d", "category": "c", "price": 1,
        "currency": "USD", "delivery_days": 1, "active": True, "deleted": True,
        "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip
    document = search_document(state, 3)
    assert set(document) <= set(GIG_MAPPINGS["properties"])
    assert (document["active"], document["version"]) == (False, 3)
