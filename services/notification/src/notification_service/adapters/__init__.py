"""Adapters behind the service-layer ports: Jinja2 templates, aiosmtplib sender, Redis delivery ledger."""
