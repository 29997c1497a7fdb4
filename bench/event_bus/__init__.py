"""Event-bus benchmark: raw aio-pika confirm/ack throughput versus the full outbox → relay → consumer path."""
