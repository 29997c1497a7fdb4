"""The running Gigstack stack for cross-service suites: notification, auth and gateway as real processes.

Importable from other suites (``tests/reliability``) without pytest fixtures::

    sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))
    from stack import running_stack

``running_stack(...)`` takes the real servers' URLs (from the ``gigstack_testinfra`` fixtures), migrates the
auth schema, starts notification first (its queue must be bound before auth's outbox relay publishes),
then auth, then the gateway, waits for each one's ``/health/ready`` and stops all of them on exit.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from gigstack_testinfra.mail import MailCatcher
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.object_store import ObjectStoreBucket
from gigstack_testinfra.processes import EnvValue, ServiceProcess
from servicekit.security import InternalTokenIssuer

# Test-only HS256 key for user access tokens (the suites need it to forge expired tokens).
ACCESS_TOKEN_SECRET = "e2e-access-token-key-0123456789abcdef-not-for-production"
PUBLIC_URL = "http://app.gigstack.test"
MAIL_FROM = "Gigstack <no-reply@gigstack.test>"
SIGNIN_FAILURES_BEFORE_LOCK = 3
READY_TIMEOUT_SECONDS = 90.0
MIGRATION_TIMEOUT_SECONDS = 180.0
# The local payment provider's webhook signing key (test value; the provider signs as Stripe does).
ORDER_WEBHOOK_SECRET = "whsec_e2e_local_provider_0123456789abcdef"


@dataclass
class GigstackStack:
    notification: ServiceProcess
    users: ServiceProcess | None
    gig: ServiceProcess | None
    review: ServiceProcess | None
    order: ServiceProcess | None
    chat: ServiceProcess | None
    auth: ServiceProcess
    gateway: ServiceProcess
    mail: MailCatcher
    internal_private_pem: str
    internal_public_pem: str
    access_token_secret: str
    redis_url: str
    amqp_url: str
    mariadb_url: str
    # The bucket gig uploads to (when gig runs): web clients that read media (the storefront) need it too.
    object_store: ObjectStoreBucket | None = None

    @property
    def gateway_url(self) -> str:
        return self.gateway.base_url

    @property
    def auth_url(self) -> str:
        return self.auth.base_url

    def gateway_client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.gateway_url, timeout=30.0, trust_env=False, **kwargs)

    def auth_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """Straight to auth, bypassing the gateway: only for proving auth refuses bad internal tokens."""
        return httpx.AsyncClient(base_url=self.auth_url, timeout=30.0, trust_env=False, **kwargs)

    def service_url(self, name: str) -> str:
        process = next((p for p in self.processes() if p.name == name), None)
        assert process is not None, f"{name} does not run in this stack"
        return process.base_url

    def service_client(self, name: str, **kwargs: Any) -> httpx.AsyncClient:
        """Straight to one running service, bypassing the gateway (its own API, internal tokens)."""
        return httpx.AsyncClient(base_url=self.service_url(name), timeout=30.0, trust_env=False, **kwargs)

    def internal_token(
        self, audience: str = "auth", *, subject: str | None = None, email_verified: bool = True
    ) -> str:
        """A token as the gateway mints it; a user's carries the session's `email_verified` claim."""
        claims = {"email_verified": email_verified} if subject is not None else None
        return InternalTokenIssuer(self.internal_private_pem).issue(audience, subject=subject, extra=claims)

    def processes(self) -> tuple[ServiceProcess, ...]:
        optional = tuple(
            process
            for process in (self.users, self.gig, self.review, self.order, self.chat)
            if process is not None
        )
        return (self.notification, *optional, self.auth, self.gateway)


def _common_env(public_pem: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "test",
        "HOST": LOOPBACK,
        "LOG_LEVEL": "INFO",
        "INTERNAL_TOKEN_PUBLIC_KEY": public_pem,
        "SHUTDOWN_GRACE_SECONDS": "5",
    }


async def migrate(service: str, database_url: str) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", f"{service}_service", "migrate"],
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        timeout=MIGRATION_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{service} migration failed:\n{done.stderr.decode(errors='replace')}")


async def migrate_auth(mariadb_url: str) -> None:
    await migrate("auth", mariadb_url)


def _address_of(process: ServiceProcess) -> Callable[[], str]:
    return lambda: process.base_url


def _process(name: str, module: str, env: Mapping[str, EnvValue], log_dir: Path) -> ServiceProcess:
    port = free_port()
    return ServiceProcess(
        name, [sys.executable, "-m", module], {**env, "PORT": str(port)}, port, log_dir / f"{name}.log"
    )


@asynccontextmanager
async def running_stack(
    *,
    mariadb_url: str,
    redis_url: str,
    amqp_url: str,
    mail_catcher: MailCatcher,
    internal_keypair: tuple[str, str],
    log_dir: Path,
    gateway_env: Mapping[str, str] | None = None,
    auth_env: Mapping[str, str] | None = None,
    notification_env: Mapping[str, str] | None = None,
    mongodb_url: str | None = None,
    search_url: str | None = None,
    search_index_alias: str = "gigs",
    gig_env: Mapping[str, str] | None = None,
    review_database_url: str | None = None,
    object_store: ObjectStoreBucket | None = None,
    order_database_url: str | None = None,
    order_env: Mapping[str, str] | None = None,
    with_chat: bool = False,
    chat_env: Mapping[str, str] | None = None,
) -> AsyncIterator[GigstackStack]:
    """With `mongodb_url`, the users service runs too; with `search_url` and `object_store` as well, gig; with
    `review_database_url` (a PostgreSQL database), review; with `order_database_url` (another one), order
    (local payment provider); with `with_chat` (and `mongodb_url`), chat. The gateway routes their groups to
    them."""
    private_pem, public_pem = internal_keypair
    common = _common_env(public_pem)
    await migrate_auth(mariadb_url)

    notification = _process(
        "notification",
        "notification_service",
        {
            **common,
            "AMQP_URL": amqp_url,
            "REDIS_URL": redis_url,
            "SMTP_HOST": mail_catcher.smtp_host,
            "SMTP_PORT": str(mail_catcher.smtp_port),
            "SMTP_STARTTLS": "false",
            "SMTP_TIMEOUT_SECONDS": "5",
            "MAIL_FROM": MAIL_FROM,
            "PUBLIC_URL": PUBLIC_URL,
            **(notification_env or {}),
        },
        log_dir,
    )
    auth = _process(
        "auth",
        "auth_service",
        {
            **common,
            "DATABASE_URL": mariadb_url,
            "AMQP_URL": amqp_url,
            # Every test here signs accounts up and in; none measures hashing (tests/security does, alone).
            "HASHING_COST": "fast-for-tests",
            **(auth_env or {}),
        },
        log_dir,
    )
    users = None
    if mongodb_url is not None:
        users = _process(
            "users", "users_service", {**common, "MONGODB_URL": mongodb_url, "AMQP_URL": amqp_url}, log_dir
        )
    gig = None
    if mongodb_url is not None and search_url is not None:
        if object_store is None:
            raise ValueError("gig needs object_store (the object_store_bucket fixture) for media uploads")
        gig = _process(
            "gig",
            "gig_service",
            {
                **common,
                "MONGODB_URL": mongodb_url,
                "AMQP_URL": amqp_url,
                "SEARCH_URL": search_url,
                "SEARCH_INDEX_ALIAS": search_index_alias,
                **object_store.settings_env(),
                **(gig_env or {}),
            },
            log_dir,
        )
    review = None
    if review_database_url is not None:
        await migrate("review", review_database_url)
        review = _process(
            "review",
            "review_service",
            {**common, "DATABASE_URL": review_database_url, "AMQP_URL": amqp_url},
            log_dir,
        )
    order = None
    if order_database_url is not None:
        if object_store is None:
            raise ValueError("order needs object_store (the object_store_bucket fixture) for delivery files")
        await migrate("order", order_database_url)
        order = _process(
            "order",
            "order_service",
            {
                **common,
                "DATABASE_URL": order_database_url,
                "AMQP_URL": amqp_url,
                "PAYMENT_PROVIDER": "local",
                "PAYMENT_WEBHOOK_SECRET": ORDER_WEBHOOK_SECRET,
                "SCHEDULER_INTERVAL_SECONDS": "1",
                # Delivery files are checked in the object store (order has uses_media).
                **(object_store.settings_env() if object_store is not None else {}),
                **(order_env or {}),
            },
            log_dir,
        )
    chat = None
    if with_chat and mongodb_url is not None:
        if object_store is None:
            raise ValueError("chat needs object_store (the object_store_bucket fixture) for file messages")
        chat = _process(
            "chat",
            "chat_service",
            {
                **common,
                "MONGODB_URL": mongodb_url,
                "AMQP_URL": amqp_url,
                **object_store.settings_env(),
                **(chat_env or {}),
            },
            log_dir,
        )
    gateway = _process(
        "gateway",
        "gateway_service",
        {
            **common,
            "REDIS_URL": redis_url,
            # The bus carries the realtime pushes (queue gateway.realtime) to the Socket.IO clients.
            "AMQP_URL": amqp_url,
            "INTERNAL_TOKEN_PRIVATE_KEY": private_pem,
            "ACCESS_TOKEN_SECRET": ACCESS_TOKEN_SECRET,
            # Read when the gateway starts, after the services are ready: a service whose port was taken
            # before it bound was moved to another one (ServiceProcess.wait_ready).
            "AUTH_SERVICE_URL": _address_of(auth),
            **({"USERS_SERVICE_URL": _address_of(users)} if users is not None else {}),
            **({"GIG_SERVICE_URL": _address_of(gig)} if gig is not None else {}),
            **({"REVIEW_SERVICE_URL": _address_of(review)} if review is not None else {}),
            **({"ORDER_SERVICE_URL": _address_of(order)} if order is not None else {}),
            **({"CHAT_SERVICE_URL": _address_of(chat)} if chat is not None else {}),
            "CORS_ORIGINS": PUBLIC_URL,
            # All test traffic comes from 127.0.0.1: the per-IP request budget must not be what a test hits.
            "RATE_LIMIT_PER_IP_PER_MINUTE": "100000",
            "RATE_LIMIT_PER_ACCOUNT_PER_MINUTE": "100000",
            "SIGNIN_FAILURES_BEFORE_LOCK": str(SIGNIN_FAILURES_BEFORE_LOCK),
            # The suites replay refresh tokens within milliseconds to prove reuse detection: no grace window.
            "REFRESH_REUSE_GRACE_SECONDS": "0",
            **(gateway_env or {}),
        },
        log_dir,
    )
    stack = GigstackStack(
        notification=notification,
        users=users,
        gig=gig,
        review=review,
        order=order,
        chat=chat,
        auth=auth,
        gateway=gateway,
        mail=mail_catcher,
        internal_private_pem=private_pem,
        internal_public_pem=public_pem,
        access_token_secret=ACCESS_TOKEN_SECRET,
        redis_url=redis_url,
        amqp_url=amqp_url,
        mariadb_url=mariadb_url,
        object_store=object_store,
    )
    started: list[ServiceProcess] = []
    try:
        for process in stack.processes():
            process.start()
            started.append(process)
            await process.wait_ready(timeout=READY_TIMEOUT_SECONDS)
        yield stack
    finally:
        for process in reversed(started):
            await asyncio.to_thread(process.terminate, 15.0)
