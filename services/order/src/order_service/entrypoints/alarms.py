"""Payment alarms: anomalies a person must look at, counted on the app's Prometheus registry.

`order_payment_anomalies_total{kind}` rises on each one (alert `GigstackPaymentAnomaly` pages on any increase,
observability/prometheus/rules) and an ERROR log line says
which payment. Kinds: `amount_mismatch` (a verified provider event whose amount or currency differs from
the intent the order asked for; the charge is refunded, docs/adr/0020).
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter

logger = logging.getLogger(__name__)


class PaymentAlarms:
    def __init__(self) -> None:
        self._counter: Counter | None = None

    def bind(self, registry: CollectorRegistry) -> None:
        """Called once the app (and its registry) exists; alarms before that are logged only."""
        self._counter = Counter(
            "order_payment_anomalies_total",
            "Payment anomalies that need a person (a mismatched amount or currency, refunded)",
            ["kind"],
            registry=registry,
        )
        self._counter.labels(kind="amount_mismatch")  # the series exists at 0, so increase() sees the 1st

    def __call__(self, kind: str, detail: str) -> None:
        logger.error("payment anomaly %s: %s", kind, detail, extra={"alarm": f"payment_{kind}"})
        if self._counter is not None:
            self._counter.labels(kind=kind).inc()
