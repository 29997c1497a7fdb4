"""Gigstack users service: buyer and seller profiles, job counters and rating buckets."""

__version__ = "0.1.0"
