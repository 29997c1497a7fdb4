"""The search engine's transient refusals are a 503 the client can retry, never an opaque 500."""

from __future__ import annotations

import pytest
from gig_service.entrypoints.errors import GIG_ERRORS
from opensearchpy.exceptions import TransportError


@pytest.mark.parametrize("status", [408, 429, 503])
def test_a_starting_or_overloaded_search_engine_answers_503(status: int) -> None:
    # What a search right after index creation raised before its shard was active (seen in CI: 500 → 502).
    error = TransportError(status, "search_phase_execution_exception", {})
    reported = GIG_ERRORS.as_service_error(error)
    assert reported.status_code == 503
    assert reported.headers.get("Retry-After") == "1"


def test_any_other_engine_error_stays_an_unexpected_500() -> None:
    reported = GIG_ERRORS.as_service_error(TransportError(400, "parsing_exception", {}))
    assert reported.status_code == 500
