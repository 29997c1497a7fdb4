"""The order service: its domain, use cases, MongoDB adapters and HTTP/event entry points."""
