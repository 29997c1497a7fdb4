"""OpenSearch fixture: index and search through the official client, indices removed after the test."""

from __future__ import annotations

import httpx
import pytest
from opensearchpy import OpenSearch

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_index_and_search(opensearch_url: str, opensearch_index_prefix: str) -> None:
    assert opensearch_index_prefix.startswith("test_")
    client = OpenSearch(hosts=[opensearch_url], timeout=30)
    try:
        info = client.info()
        assert info["version"]["distribution"] == "opensearch"
        assert info["version"]["number"].startswith("2.19")
        index = f"{opensearch_index_prefix}gigs"
        client.indices.create(index=index, body={"mappings": {"properties": {"title": {"type": "text"}}}})
        client.index(index=index, id="1", body={"title": "Logo design for a bakery"}, refresh=True)
        hits = client.search(index=index, body={"query": {"match": {"title": "bakery"}}})["hits"]["hits"]
        assert [hit["_id"] for hit in hits] == ["1"]
    finally:
        client.close()


def test_indices_of_earlier_tests_are_gone(opensearch_url: str) -> None:
    # Runs after test_index_and_search (file order): its prefix-matched indices were deleted.
    listing = httpx.get(f"{opensearch_url}/_cat/indices/test_*", params={"format": "json"}, timeout=30)
    assert listing.status_code == 200
    assert listing.json() == []
