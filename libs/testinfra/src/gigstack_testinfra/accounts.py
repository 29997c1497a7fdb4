"""The unprivileged OS account local servers run under when the test runner is root.

PostgreSQL refuses to run as root and MariaDB wants an explicit ``--user``; CI containers and this machine run
as root, so we create one system account once and hand server directories to it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVICE_ACCOUNT = "gigstack-test"


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int


def server_account() -> Account | None:
    """The account to drop to, or ``None`` when we already run unprivileged."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_ACCOUNT,
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        entry = pwd.getpwnam(SERVICE_ACCOUNT)
    return Account(SERVICE_ACCOUNT, entry.pw_uid, entry.pw_gid)


def hand_over(path: Path, account: Account | None) -> None:
    """Give ``path`` (recursively) to ``account`` so a server running as it can write there."""
    if account is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, account.uid, account.gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), account.uid, account.gid, follow_symlinks=False)
