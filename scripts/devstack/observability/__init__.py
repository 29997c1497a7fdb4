"""Observability engines on this machine: Prometheus, Alertmanager, the OpenTelemetry Collector, Jaeger
and the log indexer that loads the collector's log stream into OpenSearch.

``make up`` runs them on fixed ports next to the services (``scripts.devstack.stack``); tests/observability
runs them on free ports with shortened rule windows. Both generate their configs from ``observability/``
(``configs``) and start the same processes (``engines``).
"""
