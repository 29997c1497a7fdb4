"""RabbitMQ killed and restarted while auth publishes 1,000 email events: each email is sent exactly once.

Real processes (notification, auth and the gateway from ``tests/e2e/stack.py``) on the real servers. Auth runs
with ENVIRONMENT=development so its seed endpoint can create the 1,000 accounts cheaply (one argon2 hash);
then 1,000 forgot-password requests go straight to auth with minted internal tokens, each staging an
``auth.email.password_reset_requested.v1`` outbox row. The broker is SIGKILLed a third of the way through
and started again (same data) two thirds of the way through; auth keeps accepting requests meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from gigstack_testinfra.backends import BrokerControl
from gigstack_testinfra.mail import MailCatcher
from gigstack_testinfra.object_store import ObjectStoreBucket
from reliability_support import settled_counts, wait_for_recipients
from stack import GigstackStack, running_stack

pytestmark = pytest.mark.slow

ACCOUNTS = 1000
SEED_BATCH = 100
CONCURRENCY = 4
RESET_SUBJECT = "Reset your Gigstack password"


async def seed_accounts(stack: GigstackStack, client: httpx.AsyncClient) -> list[str]:
    emails: list[str] = []
    for _ in range(ACCOUNTS // SEED_BATCH):
        response = await client.post(
            f"/api/v1/auth/seed/{SEED_BATCH}",
            headers={"Authorization": f"Bearer {stack.internal_token('auth')}"},
        )
        assert response.status_code == 201, response.text
        emails.extend(user["email"] for user in response.json()["users"])
    return emails


async def request_resets(
    stack: GigstackStack,
    client: httpx.AsyncClient,
    emails: list[str],
    on_progress: Callable[[int], None],
) -> int:
    """Send one forgot-password request per address; returns how many 5xx answers were retried."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for email in emails:
        queue.put_nowait(email)
    done = 0
    server_errors = 0

    async def worker() -> None:
        nonlocal done, server_errors
        while not queue.empty():
            email = queue.get_nowait()
            for _attempt in range(5):
                response = await client.post(
                    "/api/v1/auth/forgot-password",
                    json={"email": email},
                    headers={"Authorization": f"Bearer {stack.internal_token('auth')}"},
                )
                # A 5xx rolled the request's transaction back (no outbox row), so retrying it is what a
                # client would do and cannot add an email. Auth answers 500 on MariaDB deadlocks between
                # concurrent forgot-password requests (reported to auth); they are counted, not hidden.
                if response.status_code < 500:
                    break
                server_errors += 1
                await asyncio.sleep(0.05)
            assert response.status_code == 202, response.text
            done += 1
            on_progress(done)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return server_errors


async def test_broker_crash_during_1000_email_events_sends_each_exactly_once(
    mariadb_url: str,
    redis_url: str,
    amqp_url: str,
    mail_catcher: MailCatcher,
    internal_keypair: tuple[str, str],
    rabbitmq_server: BrokerControl,
    mongodb_url: str,
    opensearch_url: str,
    opensearch_index_prefix: str,
    object_store_bucket: ObjectStoreBucket,
    tmp_path: Path,
    reliability_report: Callable[[str, object], None],
) -> None:
    async with (
        running_stack(
            mariadb_url=mariadb_url,
            redis_url=redis_url,
            amqp_url=amqp_url,
            mail_catcher=mail_catcher,
            internal_keypair=internal_keypair,
            log_dir=tmp_path,
            mongodb_url=mongodb_url,
            search_url=opensearch_url,
            search_index_alias=f"{opensearch_index_prefix}gigs",
            object_store=object_store_bucket,
            auth_env={"ENVIRONMENT": "development"},
        ) as stack,
        stack.auth_client() as client,
    ):
        emails = await seed_accounts(stack, client)
        assert len(set(emails)) == ACCOUNTS

        broker_events: list[asyncio.Task[None]] = []

        def crash_and_recover(done: int) -> None:
            # Broker control blocks (it signals and waits for ports), so it runs in a thread while the
            # request workers keep going.
            if done == ACCOUNTS // 3:
                broker_events.append(asyncio.create_task(asyncio.to_thread(rabbitmq_server.kill)))
            elif done == 2 * ACCOUNTS // 3:
                broker_events.append(asyncio.create_task(_restart_after(broker_events[0], rabbitmq_server)))

        started = asyncio.get_running_loop().time()
        retried = await request_resets(stack, client, emails, crash_and_recover)
        reliability_report("auth 5xx answers retried by the client", retried)
        assert len(broker_events) == 2, "the broker was not killed and restarted mid-run"
        await asyncio.gather(*broker_events)
        reliability_report("seconds to accept 1000 forgot-password requests", _since(started))

        await wait_for_recipients(mail_catcher, emails, timeout=150, subject=RESET_SUBJECT)
        reliability_report("seconds until every reset email arrived", _since(started))
        counts = await settled_counts(mail_catcher, subject=RESET_SUBJECT)
        duplicated = {email: counts[email] for email in emails if counts[email] > 1}
        reliability_report("duplicated", duplicated)
        assert duplicated == {}
        assert sum(counts[email] for email in emails) == ACCOUNTS
        for process in stack.processes():
            assert process.is_running(), f"{process.name} died:\n{process.log_tail()}"


async def _restart_after(kill: asyncio.Task[None], broker: BrokerControl) -> None:
    await kill
    await asyncio.to_thread(broker.start)


def _since(started: float) -> float:
    return round(asyncio.get_running_loop().time() - started, 1)
