"""Cryptographically random link tokens and OTP codes (the ``secrets`` module, never ``random``)."""

from __future__ import annotations

import secrets

from auth_service.domain.model import OTP_DIGITS

LINK_TOKEN_BYTES = 32


class SecretsTokenGenerator:
    def link_token(self) -> str:
        return secrets.token_urlsafe(LINK_TOKEN_BYTES)

    def otp_code(self) -> str:
        return f"{secrets.randbelow(10**OTP_DIGITS):0{OTP_DIGITS}d}"
