"""Store settings reach the users outbox relay and writers (the eks and minikube overlays set an hour's full
scan and no write claims: gitops/components/mongodb-atomic-store)."""

from __future__ import annotations

import pytest
from servicekit.events.mongo import MongoOutboxRelay
from servicekit.mongo import MongoUnitOfWork
from users_service.entrypoints.app import create_app
from users_service.settings import UsersSettings


def _settings(
    mongodb_url: str, amqp_url: str, public_key: str, *, full_scan: float = 30.0, write_claims: bool = True
) -> UsersSettings:
    return UsersSettings(
        environment="test",
        mongodb_url=mongodb_url,
        amqp_url=amqp_url,
        internal_token_public_key=public_key,
        outbox_full_scan_interval_seconds=full_scan,
        mongo_write_claims=write_claims,
    )


async def test_the_outbox_relay_scans_at_the_configured_interval(
    mongodb_url: str, amqp_url: str, internal_keypair: tuple[str, str]
) -> None:
    settings = _settings(mongodb_url, amqp_url, internal_keypair[1], full_scan=3600)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        (relay,) = app.state.deps.events.relays
    assert isinstance(relay, MongoOutboxRelay)
    assert relay.full_scan_interval_seconds == 3600
    assert UsersSettings.model_fields["outbox_full_scan_interval_seconds"].default == 30.0


@pytest.mark.parametrize(
    ("write_claims", "expected"),
    [
        (None, True),  # the default: FerretDB v1 needs them
        (False, False),  # MONGO_WRITE_CLAIMS=false, as the eks and minikube overlays set it
    ],
)
async def test_the_write_claims_setting_reaches_the_profile_writers_and_the_relay(
    mongodb_url: str,
    amqp_url: str,
    internal_keypair: tuple[str, str],
    write_claims: bool | None,
    expected: bool,
) -> None:
    chosen = {} if write_claims is None else {"write_claims": write_claims}
    app = create_app(_settings(mongodb_url, amqp_url, internal_keypair[1], **chosen))
    async with app.router.lifespan_context(app):
        (relay,) = app.state.deps.events.relays
        uow = app.state.deps.handlers.uow_factory()
    assert isinstance(relay, MongoOutboxRelay)
    assert isinstance(uow, MongoUnitOfWork)
    assert (relay.write_claims, uow.write_claims) == (expected, expected)
