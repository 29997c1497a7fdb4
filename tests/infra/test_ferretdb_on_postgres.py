"""FerretDB on its PostgreSQL backend (ADR 0026): its own cluster, a schema per MongoDB database, detached
stacks found again by a later process, and PostgreSQL data directories copied from a cached initdb."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from gigstack_testinfra.backends import Backend
from gigstack_testinfra.backends.local import LocalBackend
from gigstack_testinfra.net import free_port
from gigstack_testinfra.servers import FerretDBServer, PostgresServer
from gigstack_testinfra.servers.ferretdb import BACKING_DATABASE
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A directory the unprivileged server account can reach (pytest's tmp_path sits under a 0700 one)."""
    directory = Path(tempfile.mkdtemp(prefix="gigstack-test-ferretdb-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_each_mongo_database_is_a_schema_in_ferretdbs_own_postgresql(
    gigstack_backend: Backend, mongodb_url: str
) -> None:
    if not isinstance(gigstack_backend, LocalBackend):
        pytest.skip("the containers backend runs mongo:7 itself")
    ferretdb = next(s for s in gigstack_backend._servers if isinstance(s, FerretDBServer))
    assert ferretdb.postgres.is_running()
    assert ferretdb.postgres.base_dir.parent == ferretdb.base_dir
    name = urlsplit(mongodb_url).path.lstrip("/")
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        mongodb_url, serverSelectionTimeoutMS=10000
    )
    try:
        await client.get_default_database().gigs.insert_one({"_id": "g1", "version": 1})
    finally:
        await client.close()

    conn = await asyncpg.connect(ferretdb.postgres.endpoint.plain_url(BACKING_DATABASE), timeout=10)
    try:
        schemas = await conn.fetch("SELECT schema_name FROM information_schema.schemata")
        table = await conn.fetchval(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'gigs%'", name
        )
        # A lookup by `_id` as FerretDB sends it (containment; its key a constant in the custom plan that
        # plan_cache_mode forces) can use an index: the GIN twin of FerretDB's btree `_id_` index.
        await conn.execute("SET enable_seqscan = off")
        query = f"""EXPLAIN SELECT _jsonb FROM "{name}"."{table}" WHERE _jsonb->'_id' @> '"g1"'"""  # noqa: S608
        plan = "\n".join(row[0] for row in await conn.fetch(query))
    finally:
        await conn.close()
    assert name in {row["schema_name"] for row in schemas}
    assert "Seq Scan" not in plan, plan
    assert "Index Scan" in plan, plan


async def test_more_concurrent_updates_than_ferretdbs_default_pool_do_not_stop_the_store(
    gigstack_backend: Backend, mongodb_url: str
) -> None:
    """FerretDB v1 keeps an update's query (and its pooled PostgreSQL connection) open while it takes a second
    connection to write, and an update has no deadline. With its default pool of 50, 50 concurrent updates
    each holding one connection wait for ever for a second: the store stops (the whole-app soak's collapse;
    this test then times out). testinfra's FerretDB pool is larger than its clients' concurrency."""
    if not isinstance(gigstack_backend, LocalBackend):
        pytest.skip("the containers backend runs mongo:7 itself")
    concurrent = 150
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        mongodb_url, maxPoolSize=concurrent, maxConnecting=concurrent, serverSelectionTimeoutMS=10000
    )
    try:
        things = client.get_default_database().pool_things
        await things.insert_many([{"_id": i, "n": 0} for i in range(concurrent)])
        # A warm client pool (as after a slow spell in a soak): every update leaves at once.
        await asyncio.gather(*(things.find_one({"_id": i}) for i in range(concurrent)))
        for round_ in (1, 2):
            updates = (things.update_one({"_id": i}, {"$set": {"n": round_}}) for i in range(concurrent))
            results = await asyncio.wait_for(asyncio.gather(*updates), timeout=30)
            assert all(result.matched_count == 1 for result in results)
        assert await things.count_documents({"n": 2}) == concurrent
    finally:
        await client.close()


# Another process (a second `make up`): starts the same FerretDB directory, prints its process groups.
START = """
import json, sys
from pathlib import Path
from gigstack_testinfra.servers import FerretDBServer
from pymongo import MongoClient
server = FerretDBServer(Path(sys.argv[1]), int(sys.argv[2]), detached=True)
server.start()
client = MongoClient(server.endpoint.url("kept"), serverSelectionTimeoutMS=10000)
client.kept.things.insert_one({"run": sys.argv[3]})
runs = sorted(d["run"] for d in client.kept.things.find())
print(json.dumps({"pids": server.pids(), "runs": runs}))
"""


def _start_in_another_process(directory: Path, port: int, run: str) -> dict[str, list[object]]:
    done = subprocess.run(
        [sys.executable, "-c", START, str(directory), str(port), run],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    started: dict[str, list[object]] = json.loads(done.stdout.splitlines()[-1])
    return started


def test_a_detached_ferretdb_and_its_postgresql_are_found_again_by_a_later_process(server_dir: Path) -> None:
    directory, port = server_dir / "ferretdb", free_port()
    first = _start_in_another_process(directory, port, "first")
    ferretdb, postgres = (int(str(p)) for p in first["pids"])
    groups = [ferretdb, postgres]
    try:
        assert all(_group_alive(g) for g in groups)  # detached: they outlived the process that started them
        os.killpg(ferretdb, signal.SIGKILL)  # half a store: FerretDB gone, its PostgreSQL still running
        deadline = time.monotonic() + 10
        while _group_alive(ferretdb) and time.monotonic() < deadline:
            time.sleep(0.1)

        second = _start_in_another_process(directory, port, "second")
        groups += [int(str(p)) for p in second["pids"]]
        assert int(str(second["pids"][1])) == postgres  # the running cluster was adopted, not started twice
        assert second["runs"] == ["first", "second"]  # on the same data
    finally:
        for pgid in groups:
            if _group_alive(pgid):
                os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while any(_group_alive(g) for g in groups) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert not any(_group_alive(g) for g in groups)


def test_a_new_postgres_data_directory_is_a_copy_of_the_cached_initdb(
    server_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = server_dir
    monkeypatch.setenv("GIGSTACK_CACHE", str(tmp_path / "cache"))
    PostgresServer(tmp_path / "first", free_port()).prepare()  # initdb, then saved as the template
    templates = list((tmp_path / "cache").glob("postgres-template-*"))
    assert [t.name.count(".tmp-") for t in templates] == [0]
    (templates[0] / "copied-from-template").write_text("")

    second = PostgresServer(tmp_path / "second", free_port())
    second.start()
    try:
        assert (second.data_dir / "copied-from-template").exists()
    finally:
        second.stop()
