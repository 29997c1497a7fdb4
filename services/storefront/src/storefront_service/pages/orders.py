"""The orders pages (helper sf-trade fills this module; the app factory includes its router)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
