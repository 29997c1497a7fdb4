"""Log indexer: takes the collector's logs over OTLP/HTTP (JSON encoding) and bulk-loads them into OpenSearch.

It stands in for the contrib OpenSearch exporter, which the Go module proxy does not serve (docs/adr/0011).
Each log record becomes one flat document: the fields servicekit.logging wrote (service, level, logger,
message, correlation_id, ...) plus ``trace_id``/``span_id`` from the record itself, so a log line is found by
the trace id Jaeger shows.
Run: ``python -m scripts.devstack.observability.log_indexer --port P --opensearch URL --index I``
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

log = logging.getLogger("log_indexer")
_BULK_TIMEOUT_SECONDS = 10.0
_MAX_BODY_BYTES = 32 * 1024 * 1024


def any_value(value: dict[str, Any]) -> Any:
    """An OTLP AnyValue (JSON encoding) as a plain Python value."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "kvlistValue" in value:
        return {kv["key"]: any_value(kv.get("value", {})) for kv in value["kvlistValue"].get("values", [])}
    if "arrayValue" in value:
        return [any_value(v) for v in value["arrayValue"].get("values", [])]
    return None


def _attributes(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: any_value(item.get("value", {})) for item in items}


def documents(export_request: dict[str, Any]) -> list[dict[str, Any]]:
    """One document per log record of an OTLP ExportLogsServiceRequest."""
    docs = []
    for resource_logs in export_request.get("resourceLogs", []):
        resource = _attributes(resource_logs.get("resource", {}).get("attributes", []))
        for scope_logs in resource_logs.get("scopeLogs", []):
            for record in scope_logs.get("logRecords", []):
                doc: dict[str, Any] = {"resource": resource}
                doc.update(_attributes(record.get("attributes", [])))
                nanos = int(record.get("timeUnixNano") or record.get("observedTimeUnixNano") or 0)
                doc["@timestamp"] = datetime.fromtimestamp(nanos / 1e9, tz=UTC).isoformat()
                doc["severity"] = record.get("severityText")
                # The record's own ids win: the collector's trace_parser has validated them.
                doc["trace_id"] = record.get("traceId") or doc.get("trace_id")
                doc["span_id"] = record.get("spanId") or doc.get("span_id")
                if "message" not in doc:
                    doc["message"] = any_value(record.get("body", {}))
                docs.append(doc)
    return docs


class OpenSearchBulk:
    def __init__(self, base_url: str, index: str) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=_BULK_TIMEOUT_SECONDS, trust_env=False)
        self._index = index

    def load(self, docs: list[dict[str, Any]]) -> None:
        if not docs:
            return
        lines = []
        for doc in docs:
            lines.append(json.dumps({"index": {"_index": self._index}}))
            lines.append(json.dumps(doc, default=str))
        response = self._client.post(
            "/_bulk",
            content="\n".join(lines) + "\n",
            headers={"Content-Type": "application/x-ndjson"},
        )
        response.raise_for_status()
        result = response.json()
        if result.get("errors"):
            failed = [i["index"]["error"] for i in result["items"] if "error" in i["index"]]
            log.warning("%d of %d log documents refused, first: %s", len(failed), len(docs), failed[0])


def handler_for(bulk: OpenSearchBulk) -> type[BaseHTTPRequestHandler]:
    class ExportHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if self.path != "/v1/logs" or not 0 < length <= _MAX_BODY_BYTES:
                self.send_error(404 if self.path != "/v1/logs" else 400)
                return
            try:
                bulk.load(documents(json.loads(self.rfile.read(length))))
            except (ValueError, httpx.HTTPError) as exc:
                # 503 makes the collector's exporter retry the batch instead of dropping it.
                log.warning("could not index a batch: %r", exc)
                self.send_error(503)
                return
            body = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # one line per batch would only add noise to the indexer's own log

    return ExportHandler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--opensearch", required=True, help="base URL, e.g. http://127.0.0.1:9200")
    parser.add_argument("--index", required=True)
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    bulk = OpenSearchBulk(args.opensearch, args.index)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(bulk))
    log.info("indexing OTLP logs from 127.0.0.1:%d into %s/%s", args.port, args.opensearch, args.index)
    server.serve_forever()


if __name__ == "__main__":
    main()
