"""Gigstack's shared service library.

Owns the cross-cutting plumbing every service needs (settings, logging, errors, health, metrics, tracing,
the gateway's internal token, the event bus and the transactional outbox) so services only hold their domain.
"""
