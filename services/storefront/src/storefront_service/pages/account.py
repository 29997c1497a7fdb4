"""Account pages: signup, email verification, sign in with OTP, password reset and change, sign out."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
