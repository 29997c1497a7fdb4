"""The composition root: ``bootstrap(settings)`` builds every real dependency of the service, once.

The only place adapters are chosen. Nothing here connects: Redis and SMTP on first use, the bus when the
lifespan starts the event workers.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from servicekit.events import EventBus, EventWorkers
from servicekit.events.outbox_secrets import payload_redactor

from notification_service.adapters.ledger import RedisDeliveryLedger
from notification_service.adapters.rendering import JinjaEmailRenderer
from notification_service.adapters.smtp import SmtpConfig, SmtpEmailSender
from notification_service.domain.catalogue import SECRET_PAYLOAD_FIELDS
from notification_service.entrypoints.consumer import EMAIL_QUEUE, EMAIL_ROUTING_KEYS, email_event_handler
from notification_service.service_layer.availability import SmtpAvailability
from notification_service.service_layer.delivery import DeliveryPolicy, EmailDelivery
from notification_service.settings import NotificationSettings


@dataclass(frozen=True)
class NotificationDependencies:
    redis: Redis
    availability: SmtpAvailability
    delivery: EmailDelivery
    events: EventWorkers

    @property
    def bus(self) -> EventBus:
        return self.events.bus


def bootstrap(settings: NotificationSettings) -> NotificationDependencies:
    redis = Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        health_check_interval=30,
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
    bus = EventBus(
        settings.amqp_url.get_secret_value(),
        service_name=settings.service_name,
        prefetch=settings.consumer_prefetch,
    )
    # Shutdown: messages still waiting for SMTP are handed back at once (`stop_waiting`; another replica or
    # the next start sends them), sends already talking to SMTP finish within the grace period and are acked.
    events = EventWorkers(
        bus, service_name=settings.service_name, grace_seconds=max(1.0, settings.shutdown_grace_seconds - 2)
    ).add_consumer(
        queue=EMAIL_QUEUE,
        routing_keys=EMAIL_ROUTING_KEYS,
        handler=email_event_handler(delivery),
        before_stop=delivery.stop_waiting,
        delivery_limit=settings.email_delivery_limit,
        prefetch=settings.consumer_prefetch,
        handler_timeout_seconds=settings.handler_timeout_seconds,
        # Dead letters keep the envelope for diagnosis, never the token or OTP it carried.
        dead_letter_redactor=payload_redactor(SECRET_PAYLOAD_FIELDS),
    )
    return NotificationDependencies(redis=redis, availability=availability, delivery=delivery, events=events)
