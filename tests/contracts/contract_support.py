"""Shared by the contract suite's fixtures and tests (importable: conftest puts this folder on sys.path)."""

from __future__ import annotations

from dataclasses import dataclass

# The operations of the public API contract that exist today (docs/contracts.md, "Public API").
CONTRACT_OPERATION_IDS = (
    "auth.signup",
    "auth.signin",
    "auth.verifyOtp",
    "auth.refresh",
    "auth.signout",
    "auth.verifyEmail",
    "auth.resendVerification",
    "auth.forgotPassword",
    "auth.resetPassword",
    "auth.changePassword",
    "auth.me",
)


@dataclass(frozen=True)
class SignedInUser:
    username: str
    email: str
    password: str
    device_id: str
    access_token: str
    user_id: str
