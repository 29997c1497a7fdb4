"""The log indexer turns the collector's OTLP/JSON log batches into searchable OpenSearch documents."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from gigstack_testinfra.net import free_port, port_is_open, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from scripts.devstack.observability.log_indexer import documents  # noqa: E402

TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_ID = "eee19b7ec3c1b174"


def _string(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def _export_request() -> dict[str, Any]:
    """What the collector's otlphttp exporter sends (JSON encoding) for one parsed servicekit log line."""
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": []},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": "1764900000000000000",
                                "severityText": "WARNING",
                                "body": {"stringValue": '{"message": "downstream unreachable"}'},
                                "attributes": [
                                    _string("message", "downstream unreachable"),
                                    _string("service", "gateway"),
                                    _string("level", "WARNING"),
                                    _string("correlation_id", "c0ffee"),
                                    {"key": "attempt", "value": {"intValue": "2"}},
                                ],
                                "traceId": TRACE_ID,
                                "spanId": SPAN_ID,
                            }
                        ]
                    }
                ],
            }
        ]
    }


def test_a_log_record_becomes_a_flat_document_with_its_trace_ids() -> None:
    [doc] = documents(_export_request())
    assert doc["message"] == "downstream unreachable"
    assert doc["service"] == "gateway"
    assert doc["attempt"] == 2
    assert (doc["trace_id"], doc["span_id"]) == (TRACE_ID, SPAN_ID)
    assert doc["@timestamp"].startswith("2025-12-05T")


@contextmanager
def _running_indexer(opensearch_url: str, index: str) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "scripts.devstack.observability.log_indexer",
        f"--port={port}",
        f"--opensearch={opensearch_url}",
        f"--index={index}",
    ]
    with subprocess.Popen(command, cwd=REPO_ROOT, stderr=subprocess.DEVNULL) as indexer:
        try:
            wait_until(lambda: port_is_open(port), timeout=30, what="log indexer")
            yield f"http://127.0.0.1:{port}/v1/logs"
        finally:
            indexer.terminate()
            indexer.wait(timeout=10)


def _post(url: str) -> httpx.Response:
    body = json.dumps(_export_request())
    return httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=10)


def test_an_indexed_batch_is_found_by_trace_id(opensearch_url: str, opensearch_index_prefix: str) -> None:
    index = f"{opensearch_index_prefix}logs"
    with _running_indexer(opensearch_url, index) as logs_url:
        assert _post(logs_url).status_code == 200
    httpx.post(f"{opensearch_url}/{index}/_refresh", timeout=10)
    query = {"query": {"term": {"trace_id.keyword": TRACE_ID}}}
    hits = httpx.post(f"{opensearch_url}/{index}/_search", json=query, timeout=10).json()["hits"]["hits"]
    assert [hit["_source"]["correlation_id"] for hit in hits] == ["c0ffee"]


def test_a_batch_opensearch_cannot_take_is_answered_503_so_the_collector_retries() -> None:
    with _running_indexer(f"http://127.0.0.1:{free_port()}", "unreachable") as logs_url:
        assert _post(logs_url).status_code == 503
