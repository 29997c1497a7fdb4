"""OUTBOX_FULL_SCAN_INTERVAL_SECONDS reaches chat's outbox relay (the eks overlay sets an hour)."""

from __future__ import annotations

from chat_service.entrypoints.app import create_app
from chat_service.settings import ChatSettings
from servicekit.events.mongo import MongoOutboxRelay


async def test_the_outbox_relay_scans_at_the_configured_interval(chat_settings: ChatSettings) -> None:
    app = create_app(chat_settings.model_copy(update={"outbox_full_scan_interval_seconds": 3600}))
    async with app.router.lifespan_context(app):
        (relay,) = app.state.deps.events.relays
    assert isinstance(relay, MongoOutboxRelay)
    assert relay.full_scan_interval_seconds == 3600
    assert ChatSettings.model_fields["outbox_full_scan_interval_seconds"].default == 30.0
