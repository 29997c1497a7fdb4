"""Moving a launched server to another loopback port when the one it was given was taken before it bound.

`free_port()` hands out a port that was free a moment ago; between that and the child's `bind()` another
process (another pytest session, a benchmark, a server picking its own ports) may take it. The child then
exits with "address already in use" (or, for servers that log and carry on, never becomes ready), and the
launcher starts it again on a new port. The port is replaced where a launcher passes it: as a whole argument
or environment value (`8123`), or at the end of an address or URL (`127.0.0.1:8123`, `http://h:8123/x`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# What servers print when `bind()` fails with EADDRINUSE: Python's OSError, uvicorn, Go's net package,
# Node and Erlang/OTP all say one of these.
_ADDRESS_IN_USE = re.compile(r"address already in use|EADDRINUSE|errno 98\b|eaddrinuse", re.IGNORECASE)


def says_address_in_use(output: str) -> bool:
    return _ADDRESS_IN_USE.search(output) is not None


def _port_pattern(port: int) -> re.Pattern[str]:
    # the port as a whole value, or after a colon and before the end or a path
    return re.compile(rf"(^|:){port}(?=$|/)")


def moved_args(args: Sequence[str], old: int, new: int) -> list[str]:
    pattern = _port_pattern(old)
    return [pattern.sub(rf"\g<1>{new}", arg) for arg in args]


def moved_env(env: Mapping[str, str], old: int, new: int) -> dict[str, str]:
    pattern = _port_pattern(old)
    return {name: pattern.sub(rf"\g<1>{new}", value) for name, value in env.items()}


def mentions_port(args: Sequence[str], env: Mapping[str, str], port: int) -> bool:
    """Whether the launch passes `port` in a form `moved_args`/`moved_env` can change."""
    pattern = _port_pattern(port)
    return any(pattern.search(value) for value in [*args, *env.values()])
