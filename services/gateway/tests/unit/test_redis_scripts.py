"""LuaScript: the pre-encoded EVALSHA is byte for byte what redis-py would have sent for the same call."""

from __future__ import annotations

import hashlib

from gateway_service.adapters.redis_scripts import LuaScript
from redis.asyncio.connection import Connection

SCRIPT = "return {KEYS[1], ARGV[1]}"


def _redis_py(*parts: str | int) -> bytes:
    return b"".join(Connection().pack_command(*parts))


def test_the_command_is_redis_pys_evalsha_for_every_call() -> None:
    script = LuaScript(SCRIPT)
    assert script.sha == hashlib.sha1(SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis's script id
    calls: list[tuple[tuple[str, ...], tuple[str | int, ...]]] = [
        (("gw:limits:a", "gw:limits:b", "gw:session:s1"), (100, 60, 1, 600, 60, 1)),
        (("gw:limits:é", "k"), (0, -1, "text")),  # non-ASCII keys are UTF-8, as redis-py encodes them
        (("gw:limits:a", "gw:limits:b", "gw:session:s1"), (100, 60, 1, 600, 60, 1)),  # remembered arguments
        ((), ()),
    ]
    for keys, arguments in calls:
        assert script.command(keys, arguments) == _redis_py(
            "EVALSHA", script.sha, len(keys), *keys, *arguments
        )


def test_different_shapes_and_arguments_never_share_an_encoding() -> None:
    script = LuaScript(SCRIPT)
    first = script.command(("a",), (1, 2))
    assert script.command(("a", "b"), (1,)) == _redis_py("EVALSHA", script.sha, 2, "a", "b", 1)
    assert script.command(("a",), (1, 3)) == _redis_py("EVALSHA", script.sha, 1, "a", 1, 3)
    assert script.command(("a",), (1, 2)) == first
