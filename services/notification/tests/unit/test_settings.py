"""Settings: the ledger lease must outlast a send, and MAIL_FROM gives the Message-ID domain."""

from __future__ import annotations

from typing import Any

import pytest
from notification_service.settings import NotificationSettings
from pydantic import ValidationError

REQUIRED: dict[str, Any] = {
    "amqp_url": "amqp://guest:guest@127.0.0.1:5672/",
    "redis_url": "redis://127.0.0.1:6379/1",
    "internal_token_public_key": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----",
    "environment": "test",
}


def test_claim_lease_shorter_than_a_whole_send_is_refused() -> None:
    with pytest.raises(ValidationError, match="DELIVERY_CLAIM_SECONDS must exceed 40s"):
        NotificationSettings(**REQUIRED, smtp_timeout_seconds=10, delivery_claim_seconds=30)


@pytest.mark.parametrize(
    ("mail_from", "domain"),
    [
        ("no-reply@gigstack.example.com", "gigstack.example.com"),
        ("Gigstack <hi@mail.gigstack.io>", "mail.gigstack.io"),
    ],
)
def test_message_id_domain_comes_from_mail_from(mail_from: str, domain: str) -> None:
    assert NotificationSettings(**REQUIRED, mail_from=mail_from).message_id_domain == domain


def test_mail_from_without_an_address_is_refused() -> None:
    with pytest.raises(ValidationError, match="MAIL_FROM"):
        NotificationSettings(**REQUIRED, mail_from="Gigstack")


def test_empty_smtp_credentials_mean_no_login() -> None:
    settings = NotificationSettings(**REQUIRED, smtp_username="", smtp_password="")
    assert not settings.smtp_username
    assert not settings.smtp_password


def test_handler_timeout_outlasts_the_smtp_wait_budget() -> None:
    settings = NotificationSettings(**REQUIRED, smtp_outage_wait_seconds=300, smtp_timeout_seconds=10)
    assert settings.handler_timeout_seconds > 300 + 4 * 10
