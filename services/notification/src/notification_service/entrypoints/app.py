"""``create_app``: the notification service's FastAPI app (health, metrics, docs) around its consumer."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from servicekit.health import ReadinessCheck, amqp_check, redis_check
from servicekit.http import close_on_shutdown, create_service_app

from notification_service.entrypoints.bootstrap import bootstrap
from notification_service.service_layer.availability import SmtpAvailability
from notification_service.settings import NotificationSettings

VERSION = "0.1.0"


def smtp_check(availability: SmtpAvailability, *, timeout: float) -> ReadinessCheck:
    """SMTP gates readiness only until it has answered once.

    Before that, a failing probe most likely means wrong host, port, TLS or credentials in a new rollout, and
    holding the new pod unready stops the rollout with the old pods still sending. After that, an SMTP outage
    is external: consumption pauses by itself (see ``SmtpAvailability``), and turning every replica unready
    would only block rollouts and evictions without helping delivery.
    """

    async def check() -> None:
        if availability.ever_reached:
            return
        await availability.check_now()

    return ReadinessCheck(name="smtp", check=check, timeout=timeout)


class SmtpPauseCollector(Collector):
    """`notification_smtp_paused{cause}`: 1 while delivery waits on SMTP, by cause.

    `cause="configuration"` (the server refuses our sender or credentials) needs an operator and is what
    the alert fires on; `cause="unavailable"` is an outage that clears by itself.
    """

    def __init__(self, availability: SmtpAvailability) -> None:
        self._availability = availability

    def collect(self) -> Iterator[GaugeMetricFamily]:
        paused = not self._availability.is_available
        misconfigured = paused and self._availability.misconfigured
        gauge = GaugeMetricFamily(
            "notification_smtp_paused", "1 while email delivery is paused, by cause", labels=["cause"]
        )
        gauge.add_metric(["configuration"], 1.0 if misconfigured else 0.0)
        gauge.add_metric(["unavailable"], 1.0 if paused and not misconfigured else 0.0)
        yield gauge


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    """Build the app; settings come from the environment unless given. Nothing connects before startup."""
    settings = settings or NotificationSettings()
    deps = bootstrap(settings)
    app = create_service_app(
        settings,
        title="Gigstack notification",
        version=VERSION,
        routers=[],
        readiness=[
            redis_check(deps.redis),
            amqp_check(deps.bus),
            smtp_check(deps.availability, timeout=min(5.0, settings.smtp_timeout_seconds)),
        ],
        # Exited in reverse: the consumer drains and the bus closes before SMTP and Redis are closed.
        lifespan_hooks=[
            close_on_shutdown(deps.availability.close, deps.redis.aclose),
            deps.events.lifespan_hook,
        ],
        deps=deps,
    )
    app.state.metrics_registry.register(SmtpPauseCollector(deps.availability))
    return app
