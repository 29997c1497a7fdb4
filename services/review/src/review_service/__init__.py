"""The review service: reviews of completed orders, its PostgreSQL adapters and HTTP/event entry points."""
