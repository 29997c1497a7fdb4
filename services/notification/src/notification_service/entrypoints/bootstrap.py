"""Build the real dependencies from settings (the only place adapters are chosen). Connects to nothing."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from servicekit.events import EventBus

from notification_service.adapters.ledger import RedisDeliveryLedger
from notification_service.adapters.rendering import JinjaEmailRenderer
from notification_service.adapters.smtp import SmtpConfig, SmtpEmailSender
from notification_service.service_layer.availability import SmtpAvailability
from notification_service.service_layer.delivery import DeliveryPolicy, EmailDelivery
from notification_service.settings import NotificationSettings


@dataclass(frozen=True)
class NotificationComponents:
    redis: Redis
    bus: EventBus
    availability: SmtpAvailability
    delivery: EmailDelivery


def build_components(settings: NotificationSettings) -> NotificationComponents:
    redis = Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        health_check_interval=30,
    )
    bus = EventBus(
        settings.amqp_url.get_secret_value(),
        service_name=settings.service_name,
        prefetch=settings.consumer_prefetch,
    )
    sender = SmtpEmailSender(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            mail_from=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
            timeout_seconds=settings.smtp_timeout_seconds,
        )
    )
    availability = SmtpAvailability(sender.probe)
    delivery = EmailDelivery(
        renderer=JinjaEmailRenderer(),
        sender=sender,
        ledger=RedisDeliveryLedger(
            redis,
            claim_seconds=settings.delivery_claim_seconds,
            sent_retention_seconds=settings.delivery_record_days * 24 * 3600,
        ),
        availability=availability,
        policy=DeliveryPolicy(
            public_url=settings.public_url,
            message_id_domain=settings.message_id_domain,
            wait_budget_seconds=settings.smtp_outage_wait_seconds,
        ),
        max_concurrent_sends=settings.smtp_max_connections,
    )
    return NotificationComponents(redis=redis, bus=bus, availability=availability, delivery=delivery)
