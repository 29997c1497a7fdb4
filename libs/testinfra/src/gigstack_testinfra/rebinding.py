"""Moving a launched server to another loopback port when the one it was given was taken before it bound.

`free_port()` hands out a port that was free a moment ago; between that and the child's `bind()` another
process (another pytest session, a benchmark, a server picking its own ports) may take it. The child then
exits with "address already in use" (or, for servers that log and carry on, never becomes ready), and the
launcher starts it again on a new port. A health check answered while another process holds the listening
socket (`listener_belongs_elsewhere`) is not taken for the child's, whether or not the child has said so
yet. The port is replaced where a launcher passes it: as a whole argument or environment value (`8123`), or
at the end of an address or URL (`127.0.0.1:8123`, `http://h:8123/x`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

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


def listener_belongs_elsewhere(pid: int, port: int) -> bool:
    """Whether a socket listens on `port` (in `pid`'s network namespace) and neither `pid` nor a process of
    its group holds it: another server answers there, so a health check that succeeds is not this child's.

    Read from /proc (Linux): the listening sockets' inodes in `/proc/<pid>/net/tcp{,6}` against the socket
    descriptors of the group's processes. Anything unreadable (no /proc, the child just exited) answers False:
    the caller then relies on the child's own "address in use" message, as it did before this check.
    """
    try:
        listening = _listening_inodes(pid, port)
        if not listening or listening & _socket_inodes(Path(f"/proc/{pid}")):
            return False  # nobody listens yet, or the child itself does (the usual case: no /proc walk)
        return not listening & _group_socket_inodes(os.getpgid(pid))
    except OSError:
        return False


def _listening_inodes(pid: int, port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is "HEXIP:HEXPORT"; state 0A is LISTEN; field 9 is the socket's inode
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _group_socket_inodes(group: int) -> set[str]:
    """Sockets held by any process of the group (a server that forks its workers)."""
    inodes: set[str] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) == group:
                inodes |= _socket_inodes(entry)
        except OSError:
            continue  # gone meanwhile
    return inodes


def _socket_inodes(process: Path) -> set[str]:
    inodes: set[str] = set()
    try:
        descriptors = list((process / "fd").iterdir())
    except OSError:
        return inodes  # gone meanwhile, or not ours to read
    for fd in descriptors:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes
