"""Gigstack auth service: accounts, credentials, email verification, password reset and new-device OTPs.

Layers point inward: ``domain`` <- ``service_layer`` <- ``adapters`` <- ``entrypoints``.
"""
