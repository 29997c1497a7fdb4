"""Gigstack gateway: the only public service (sessions, rate limits, proxy to internal services)."""
