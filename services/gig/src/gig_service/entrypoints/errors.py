"""The gig error table: each refusal's HTTP status, in the one JSON error shape."""

from __future__ import annotations

from opensearchpy.exceptions import ConnectionError as SearchConnectionError
from opensearchpy.exceptions import TransportError as SearchTransportError
from pymongo.errors import ConnectionFailure, PyMongoError
from servicekit.error_table import ErrorReport, ErrorTable
from servicekit.media import MEDIA_ERRORS
from servicekit.mongo import ConcurrentUpdateError
from servicekit.search import InvalidCursorError

from gig_service.domain.errors import CoverNotYours, GigNotFound, InvalidGig, NotGigOwner, StaleGigVersion


def _is_search_overloaded_or_starting(error: BaseException) -> bool:
    # 503 from the engine: shards not yet active (an index created a moment ago) or the cluster unavailable;
    # 408: the wait for a new index's primary shard timed out (it is still starting);
    # 429: rejected under load. All pass; any other engine answer is a bug and stays an opaque 500.
    return isinstance(error, SearchTransportError) and error.status_code in (408, 429, 503)


def _is_store_outage(error: BaseException) -> bool:
    # Connection failures include server selection; `timeout` covers client-side operation timeouts.
    return isinstance(error, ConnectionFailure) or (isinstance(error, PyMongoError) and error.timeout)


GIG_ERRORS = ErrorTable(
    {
        **MEDIA_ERRORS,
        GigNotFound: ErrorReport(404),
        InvalidGig: ErrorReport(422),
        NotGigOwner: ErrorReport(403),
        CoverNotYours: ErrorReport(403),
        StaleGigVersion: ErrorReport(409),
        ConcurrentUpdateError: ErrorReport(
            409, code="conflict", message="The gig was changed concurrently; reload it and try again"
        ),
        InvalidCursorError: ErrorReport(400, code="invalid_cursor", message="The page cursor is not valid"),
        SearchConnectionError: ErrorReport(
            503, code="search_unavailable", message="Search is unavailable", retry_after_seconds=5, log=True
        ),
        SearchTransportError: ErrorReport(
            503,
            code="search_unavailable",
            message="Search is unavailable",
            retry_after_seconds=1,
            log=True,
            when=_is_search_overloaded_or_starting,
        ),
        # The write model unreachable: reads by id and writes say so (search keeps answering from its index).
        PyMongoError: ErrorReport(
            503,
            code="unavailable",
            message="The gig store is unavailable; try again",
            retry_after_seconds=1,
            log=True,
            when=_is_store_outage,
        ),
    }
)
