"""The admission script's own Redis path (adapters/redis_scripts.py) against a real redis-server of its own:
a Redis restart, an outage, a script Redis forgot, a read that timed out, TLS with an ACL user.

The budgets, verdicts and liveness through that path are pinned by test_redis_adapters.py and the HTTP tests
(as the gateway's ACL user); here the server is stopped, restarted and paused, so it is this module's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from gateway_service.adapters.rate_limiter import RedisRateLimiter
from gateway_service.adapters.redis_sessions import session_key
from gateway_service.adapters.socketio_redis import reconnecting
from gateway_service.domain.rate_limits import RateRule
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.servers.redis import RedisServer, RedisTls
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

pytestmark = pytest.mark.integration

PER_IP = RateRule("requests_per_ip", limit=1_000, window_seconds=60)
ONCE = RateRule("requests_once", limit=1, window_seconds=60)


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    # Not durable: a restart also forgets the loaded scripts, as a Redis without persistence does.
    server = RedisServer(Path(tmp_path_factory.mktemp("redis-scripts")), free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def redis(own_redis: RedisServer) -> AsyncIterator[Redis]:
    if not own_redis.is_running():
        await asyncio.to_thread(own_redis.start)
    # The gateway's client options (entrypoints/bootstrap.py), with a short read timeout for the pause test.
    client = Redis.from_url(
        own_redis.endpoint.url(0),
        socket_timeout=0.3,
        socket_connect_timeout=2,
        health_check_interval=30,
        **reconnecting(),
    )
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


async def _admit(limiter: RedisRateLimiter, rule: RateRule, key: str, session_id: str) -> tuple[bool, bool]:
    by_first, _, live = await limiter.hit_two_and_check_session((rule, key), (PER_IP, key), session_id)
    return by_first.allowed, live


async def test_the_first_admission_after_a_redis_restart_succeeds_and_counts_once(
    redis: Redis, own_redis: RedisServer
) -> None:
    limiter = RedisRateLimiter(redis, own_redis.endpoint.url(0))
    assert await _admit(limiter, PER_IP, "10.1.0.1", "none") == (True, False)  # its connection is open

    # Restarted between two requests: the kept connection is dead and the script forgotten.
    await asyncio.to_thread(own_redis.stop)
    await asyncio.to_thread(own_redis.start)

    # No spurious failure after the outage: retried on a new connection, the script loaded again, and
    # the call Redis refused for NOSCRIPT sent again exactly once (a limit of one admits it, then refuses).
    assert await _admit(limiter, ONCE, "10.1.0.2", "none") == (True, False)
    assert await _admit(limiter, ONCE, "10.1.0.2", "none") == (False, False)


async def test_admission_fails_during_an_outage_and_resumes_when_redis_is_back(
    redis: Redis, own_redis: RedisServer
) -> None:
    limiter = RedisRateLimiter(redis, own_redis.endpoint.url(0))
    assert await _admit(limiter, PER_IP, "10.2.0.1", "none") == (True, False)
    await asyncio.to_thread(own_redis.stop)
    try:
        # Nothing can be judged: the failure reaches the caller (the edge answers 503, ADR 0022;
        # test_edge_http.py pins the HTTP side), never a verdict made up without Redis.
        with pytest.raises(RedisConnectionError):
            await _admit(limiter, PER_IP, "10.2.0.2", "none")
    finally:
        await asyncio.to_thread(own_redis.start)
    await redis.set(session_key("s-live"), "1")
    assert await _admit(limiter, PER_IP, "10.2.0.3", "s-live") == (True, True)


async def test_a_timed_out_read_fails_and_its_late_reply_is_never_taken_for_a_later_call(
    redis: Redis, own_redis: RedisServer
) -> None:
    limiter = RedisRateLimiter(redis, own_redis.endpoint.url(0))
    await redis.set(session_key("s-live"), "1")
    assert await _admit(limiter, PER_IP, "10.3.0.1", "s-live") == (True, True)

    admin = Redis.from_url(own_redis.endpoint.url(0), socket_timeout=2)
    try:
        await admin.client_pause(1500)  # every client's commands wait: the 0.3 s read timeout passes
        with pytest.raises(RedisTimeoutError):
            await _admit(limiter, PER_IP, "10.3.0.2", "none")
    finally:
        await admin.aclose()
    await asyncio.sleep(1.5)  # the pause is over; Redis has answered the abandoned attempts by now

    # Each later call gets its own answer (a connection left with a late reply would hand the previous
    # call's answer to this one): live, not live, then a limit of one admitting once.
    assert await _admit(limiter, PER_IP, "10.3.0.3", "none") == (True, False)
    assert await _admit(limiter, PER_IP, "10.3.0.4", "s-live") == (True, True)
    assert await _admit(limiter, ONCE, "10.3.0.5", "none") == (True, False)
    assert await _admit(limiter, ONCE, "10.3.0.5", "none") == (False, False)


async def test_concurrent_admissions_each_get_their_own_answer(redis: Redis, own_redis: RedisServer) -> None:
    limiter = RedisRateLimiter(redis, own_redis.endpoint.url(0))
    for number in range(0, 60, 2):
        await redis.set(session_key(f"s{number}"), "1")
    answers = await asyncio.gather(*(_admit(limiter, ONCE, f"10.4.0.{n}", f"s{n}") for n in range(60)))
    # Every even session is live, every odd one not; each address admitted once, in shared round trips.
    assert answers == [(True, n % 2 == 0) for n in range(60)]
    again = await asyncio.gather(*(_admit(limiter, ONCE, f"10.4.0.{n}", "none") for n in range(60)))
    assert again == [(False, False)] * 60


def _tls_files(directory: Path) -> RedisTls:
    """A CA and a server certificate for 127.0.0.1 signed by it (PEM files), made for this test."""
    now = datetime.now(UTC)

    def certificate(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
        )

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca_cert = (
        certificate("test CA", ca_key, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_cert = (
        certificate("redis", server_key, ca_name, ca_key)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address(LOOPBACK))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = RedisTls(directory / "server.crt", directory / "server.key", directory / "ca.crt")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


async def test_admission_over_tls_as_an_acl_user_on_its_database(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # rediss:// with a CA to check the server against, a user of its own and database 3: the script
    # connection takes all of it from the client's settings (AUTH, SELECT, the TLS context).
    directory = Path(tmp_path_factory.mktemp("redis-tls"))
    tls = _tls_files(directory)
    acl = (
        "user default off\n"
        "user admin on >admin-secret ~* &* +@all\n"
        "user gateway on >gateway-secret ~gw:* -@all +@read +@write +@keyspace +@scripting +@connection "
        "-@dangerous\n"
    )
    server = RedisServer(directory, free_port(), acl=acl, admin=("admin", "admin-secret"), tls=tls)
    await asyncio.to_thread(server.start)
    url = f"rediss://gateway:gateway-secret@{LOOPBACK}:{server.port}/3"
    client = Redis.from_url(url, ssl_ca_certs=str(tls.ca), ssl_cert_reqs="required", socket_timeout=2)
    try:
        limiter = RedisRateLimiter(client, url)
        await client.set(session_key("s-tls"), "1")
        assert await _admit(limiter, ONCE, "10.5.0.1", "s-tls") == (True, True)
        assert await _admit(limiter, ONCE, "10.5.0.1", "none") == (False, False)
        assert await client.exists(session_key("s-tls")) == 1  # database 3, where the script looked

        # A client that does not trust the server's certificate gets nothing judged.
        untrusting = Redis.from_url(url, ssl_cert_reqs="required", socket_timeout=2)
        try:
            with pytest.raises(RedisConnectionError):
                await _admit(RedisRateLimiter(untrusting, url), ONCE, "10.5.0.2", "none")
        finally:
            await untrusting.aclose()
        await limiter.aclose()
    finally:
        await client.aclose()
        await asyncio.to_thread(server.stop)
