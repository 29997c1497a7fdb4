"""The MongoDB-API store side by side: FerretDB v1.24 on its SQLite handler vs its PostgreSQL handler.

One run starts both (the SQLite one as the test stack ran it before ADR 0026, the PostgreSQL one through
``gigstack_testinfra``'s ``FerretDBServer``: its own PostgreSQL cluster), timing how long each takes to accept
connections (PostgreSQL: with a fresh initdb, from the cached initdb, and a restart on kept data); loads
one collection of ~500-byte aggregate documents (1% with a pending outbox entry) to 1,000 and then 10,000
documents, and at each size times, alternating between the two stores so machine noise hits both alike:

- find by `_id` (what every `VersionedRepository.get` does);
- a command's write: get by `_id`, then servicekit's versioned update with its write claim
  (`MongoUnitOfWork.update_versioned`: claim insert, `update_one({_id, version})`, claim delete), the write
  path of gig, chat and users;
- the outbox relay's pending scan (`find({"_outbox.0": {"$exists": true}}).limit(100)`), the filter the relay
  polled with until it had a flag, and now its 30 s safety-net scan;
- the outbox relay's pending poll by its indexed flag (`find({"_outbox_pending": true}).limit(100)`),
  side by side with the scan above (same 100 documents: the staged ones carry the flag).

Reported: mean milliseconds per operation on each store and the ratio sqlite / postgresql, with the load
average. Exits 1 when PostgreSQL is not at least ``TARGET_RATIO`` times faster on every operation at 10,000
documents. Results: bench/results/mongo_store.json.

    uv run --frozen python bench/mongo_store/run.py                 # 1,000 and 10,000 documents, 200 ops each
    uv run --frozen python bench/mongo_store/run.py --ops 50 --sizes 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gigstack_testinfra.net import LOOPBACK, free_port, port_is_open, wait_until
from gigstack_testinfra.servers import FerretDBServer, LocalServer
from gigstack_testinfra.servers import postgres as postgres_server
from gigstack_testinfra.servers.ferretdb import ferretdb_binary
from gigstack_testinfra.supervision import ManagedProcess
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events.mongo import (
    FLAGGED_FILTER,
    OUTBOX_FIELD,
    OUTBOX_PENDING_FIELD,
    OUTBOX_PENDING_INDEX,
    PENDING_FILTER,
)
from servicekit.mongo import MongoUnitOfWork

RESULTS = Path(__file__).resolve().parents[1] / "results" / "mongo_store.json"
# The soak needs the store's cost per operation not to grow with the collection: at 10,000 documents the
# PostgreSQL handler must be at least this many times faster than the SQLite one on every operation the
# services run on their hot path. The old pending scan is measured for comparison only: since the indexed
# flag, the relay runs it as a safety net every 30 s, not every poll.
TARGET_RATIO = 5.0
COMPARISON_ONLY = frozenset({"outbox pending scan"})
BODY = "x" * 400  # with the other fields, ~500 bytes of BSON per document
PENDING_EVERY = 100  # 1% of the aggregates have an unpublished event


class SqliteFerretDB(LocalServer):
    """FerretDB as the test stack ran it until ADR 0026: the SQLite handler, one directory of files."""

    name = "ferretdb-sqlite"

    def __init__(self, base_dir: Path, port: int) -> None:
        super().__init__(base_dir)
        self.port = port

    def prepare(self) -> None:
        (self.base_dir / "sqlite").mkdir(parents=True, exist_ok=True)

    def build_process(self) -> ManagedProcess:
        args = [
            str(ferretdb_binary()),
            "--handler=sqlite",
            f"--sqlite-url=file:{self.base_dir / 'sqlite'}/",
            f"--listen-addr={LOOPBACK}:{self.port}",
            "--state-dir=-",
            "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=warn",
        ]
        return ManagedProcess(self.name, args, log_path=self.log_path)

    def wait_ready(self) -> None:
        wait_until(lambda: port_is_open(self.port), timeout=60, what=self.name, abort=self.exit_reason)


def document(index: int) -> dict[str, Any]:
    outbox = (
        [{"id": f"e{index}", "type": "gig.gig.updated.v1", "body": "{}"}]
        if index % PENDING_EVERY == 0
        else []
    )
    flag = {OUTBOX_PENDING_FIELD: True} if outbox else {}  # as `with_staged_events` writes it
    return {
        "_id": f"gig-{index:06d}",
        "version": 1,
        "title": f"Gig {index}",
        "body": BODY,
        OUTBOX_FIELD: outbox,
        **flag,
    }


async def load(db: AsyncDatabase[Any], start: int, stop: int) -> None:
    if start == 0:  # the index `MongoOutboxRelay.ensure_indexes` creates
        await db.gigs.create_index([(OUTBOX_PENDING_FIELD, 1)], name=OUTBOX_PENDING_INDEX)
    for first in range(start, stop, 500):
        await db.gigs.insert_many([document(i) for i in range(first, min(first + 500, stop))], ordered=False)


async def mean_ms(operation: Callable[[], Awaitable[object]], ops: int) -> float:
    await operation()  # one warm-up: connection, plan cache
    samples = []
    for _ in range(ops):
        started = time.perf_counter()
        await operation()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.fmean(samples)


def operations(db: AsyncDatabase[Any], size: int) -> dict[str, Callable[[], Awaitable[object]]]:
    def some_id() -> str:
        return f"gig-{random.randrange(size):06d}"

    async def find_by_id() -> object:
        return await db.gigs.find_one({"_id": some_id()}, {OUTBOX_FIELD: 0})

    async def get_and_update() -> None:
        gig_id = some_id()
        stored = await db.gigs.find_one({"_id": gig_id}, {OUTBOX_FIELD: 0})
        assert stored is not None
        version = int(stored["version"])
        update = {"$set": {"title": f"renamed {version}", "version": version + 1}}
        await MongoUnitOfWork(db).update_versioned(db.gigs, gig_id, version, update)

    async def pending_scan() -> object:
        return await db.gigs.find(PENDING_FILTER, {OUTBOX_FIELD: 1}).limit(100).to_list()

    async def pending_poll() -> object:
        return await db.gigs.find(FLAGGED_FILTER, {OUTBOX_FIELD: 1}).limit(100).to_list()

    return {
        "find by _id": find_by_id,
        "get + versioned update (claim)": get_and_update,
        "outbox pending scan": pending_scan,
        "outbox pending poll (flag)": pending_poll,
    }


def started(server: LocalServer) -> float:
    began = time.monotonic()
    server.start()
    return time.monotonic() - began


async def measure(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    # Started one after the other (not at once) so each startup time is its own.
    sqlite = SqliteFerretDB(root / "sqlite", free_port())
    startup = {"sqlite": started(sqlite)}
    # The first start on a machine runs initdb (and caches it); later ones copy the cached data directory.
    cached_template = postgres_server._template_dir
    postgres_server._template_dir = lambda: root / "no-template"
    first = FerretDBServer(root / "postgresql-initdb", free_port())
    startup["postgresql, initdb"] = started(first)
    first.stop()
    postgres_server._template_dir = cached_template
    postgres = FerretDBServer(root / "postgresql", free_port())
    startup["postgresql, cached initdb"] = started(postgres)
    postgres.stop()
    startup["postgresql, restart (data kept)"] = started(postgres)
    servers: dict[str, LocalServer] = {"sqlite": sqlite, "postgresql": postgres}
    ports = {"sqlite": sqlite.port, "postgresql": postgres.port}
    clients: dict[str, AsyncMongoClient[dict[str, Any]]] = {
        name: AsyncMongoClient(f"mongodb://{LOOPBACK}:{port}/bench", timeoutMS=120_000)
        for name, port in ports.items()
    }
    rows: list[dict[str, Any]] = []
    try:
        dbs = {name: client.get_default_database() for name, client in clients.items()}
        loaded = 0
        for size in sorted(args.sizes):
            for db in dbs.values():
                await load(db, loaded, size)
            loaded = size
            for operation in operations(dbs["sqlite"], size):
                times: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
                # Alternate in rounds so a burst of load from other processes hits both stores.
                for _ in range(4):
                    for name, db in dbs.items():
                        times[name].append(await mean_ms(operations(db, size)[operation], args.ops // 4))
                sqlite_ms, pg_ms = statistics.fmean(times["sqlite"]), statistics.fmean(times["postgresql"])
                row = {"documents": size, "operation": operation, "sqlite_ms": round(sqlite_ms, 2),
                       "postgresql_ms": round(pg_ms, 2), "ratio": round(sqlite_ms / pg_ms, 1)}  # fmt: skip
                rows.append(row)
                print(
                    f"{size:>6} {operation:<32} {sqlite_ms:9.2f} {pg_ms:9.2f} {sqlite_ms / pg_ms:8.1f}",
                    flush=True,
                )
    finally:
        for client in clients.values():
            await client.close()
        for server in servers.values():
            server.stop()
    return {"startup_seconds": {k: round(v, 2) for k, v in startup.items()}, "rows": rows}


def flag_speedup(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per store and size: how many times faster the relay's flag poll is than the filter it replaced."""
    by_key = {(row["documents"], row["operation"]): row for row in rows}
    speedup: dict[str, dict[str, float]] = {}
    for store in ("sqlite", "postgresql"):
        for (size, operation), scan in by_key.items():
            poll = by_key.get((size, "outbox pending poll (flag)"))
            if operation == "outbox pending scan" and poll:
                ratio = scan[f"{store}_ms"] / poll[f"{store}_ms"]
                speedup.setdefault(store, {})[str(size)] = round(ratio, 1)
    return speedup


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000], help="collection sizes")
    parser.add_argument("--ops", type=int, default=200, help="timed operations per store, operation and size")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="gigstack-mongo-store-"))
    root.chmod(0o755)  # the PostgreSQL cluster runs as the unprivileged server account under it
    try:
        print(f"{'docs':>6} {'operation':<32} {'sqlite ms':>9} {'pg ms':>9} {'sqlite/pg':>8}")
        report = asyncio.run(measure(args, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    largest = max(args.sizes)
    passed = all(
        row["ratio"] >= TARGET_RATIO
        for row in report["rows"]
        if row["documents"] == largest and row["operation"] not in COMPARISON_ONLY
    )
    report.update(
        command=" ".join(["bench/mongo_store/run.py", *sys.argv[1:]]),
        target=(
            f"sqlite/postgresql >= {TARGET_RATIO} at {largest} documents on every hot-path operation "
            f"(not {', '.join(sorted(COMPARISON_ONLY))}, the 30 s safety net)"
        ),
        passed=passed,
        load_average=[round(x, 2) for x in os.getloadavg()],
        machine=f"{platform.machine()}, {os.cpu_count()} cores",
        measured_at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        poll_speedup=flag_speedup(report["rows"]),
    )
    RESULTS.write_text(json.dumps(report, indent=1) + "\n")
    print(f"startup (s): {report['startup_seconds']}")
    print(f"outbox poll, full scan / indexed flag (same run, same documents): {report['poll_speedup']}")
    print(f"load average {report['load_average']}; target {report['target']}: passed = {passed}")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
