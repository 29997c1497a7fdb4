"""OUTBOX_FULL_SCAN_INTERVAL_SECONDS reaches the users outbox relay (the eks overlay sets an hour)."""

from __future__ import annotations

from servicekit.events.mongo import MongoOutboxRelay
from users_service.entrypoints.app import create_app
from users_service.settings import UsersSettings


async def test_the_outbox_relay_scans_at_the_configured_interval(
    mongodb_url: str, amqp_url: str, internal_keypair: tuple[str, str]
) -> None:
    settings = UsersSettings(
        environment="test",
        mongodb_url=mongodb_url,
        amqp_url=amqp_url,
        internal_token_public_key=internal_keypair[1],
        outbox_full_scan_interval_seconds=3600,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        (relay,) = app.state.deps.events.relays
    assert isinstance(relay, MongoOutboxRelay)
    assert relay.full_scan_interval_seconds == 3600
    assert UsersSettings.model_fields["outbox_full_scan_interval_seconds"].default == 30.0
