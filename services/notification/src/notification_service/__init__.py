"""Gigstack notification service.

Owns email delivery: it consumes email events from the bus, renders them with its templates, hands them to an
SMTP server and remembers (in a Redis ledger) which events were sent, so each event is emailed once.
It owns no business data.
"""
