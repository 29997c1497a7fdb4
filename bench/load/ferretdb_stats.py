"""Per-minute statistics of FerretDB's backing PostgreSQL during a load run (issue 14's soak slowdown).

With ``GIGSTACK_FERRETDB_DIAGNOSTICS=1`` the FerretDB the benchmark starts runs its PostgreSQL with
``pg_stat_statements``, the slow-statement log (``log_min_duration_statement=200ms``), I/O timing and
autovacuum's log (gigstack_testinfra.servers.ferretdb). Every minute this sampler writes, into the results
directory, the top 20 statements of that minute by total execution time (the statistics are reset after each
snapshot, so a snapshot is one minute's worth) and ``pg_stat_user_tables`` (live and dead tuples, sequential
and index scans, last autovacuum) of the collections' tables, plus the database's size; at the end it copies
the cluster's log next to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
from gigstack_testinfra.servers.ferretdb import FerretDBServer
from gigstack_testinfra.servers.postgres import PG_BIN

TOP_STATEMENTS_SQL = """
SELECT calls, round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 2) AS mean_ms,
       round(max_exec_time::numeric, 1) AS max_ms, rows, shared_blks_hit, shared_blks_read,
       round(blk_read_time::numeric, 1) AS read_ms,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 400) AS query
FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20
"""
TABLES_SQL = """
SELECT schemaname || '.' || relname AS "table", n_live_tup, n_dead_tup, seq_scan, seq_tup_read, idx_scan,
       n_tup_upd, n_tup_hot_upd, n_tup_del, autovacuum_count, autoanalyze_count,
       to_char(last_autovacuum, 'HH24:MI:SS') AS last_autovacuum,
       pg_total_relation_size(relid) AS total_bytes
FROM pg_stat_user_tables ORDER BY n_dead_tup + n_live_tup DESC LIMIT 40
"""
# The GIN index twins (ADR 0026): pending-list size (fastupdate) and total size, largest first.
GIN_SQL = """
SELECT c.relname AS index, s.pending_pages, s.pending_tuples, pg_relation_size(c.oid) AS bytes,
       coalesce(ui.idx_scan, 0) AS idx_scan
FROM pg_class c JOIN pg_am am ON am.oid = c.relam AND am.amname = 'gin'
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_indexes ui ON ui.indexrelid = c.oid, LATERAL pgstatginindex(c.oid) s
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY s.pending_tuples DESC, pg_relation_size(c.oid) DESC LIMIT 20
"""
SIZE_SQL = "SELECT pg_database_size('ferretdb') AS bytes, (SELECT count(*) FROM pg_stat_activity) AS backends"
RESET_SQL = "SELECT pg_stat_statements_reset()"


class FerretDBStats:
    def __init__(self, server: FerretDBServer, out_dir: Path, interval: float = 60.0) -> None:
        self.server = server
        self.out_dir = out_dir
        self.interval = interval
        self.snapshots: list[dict[str, Any]] = []

    async def _query(self, sql: str) -> list[dict[str, str]]:
        postgres = self.server.postgres
        process = await asyncio.create_subprocess_exec(
            str(PG_BIN / "psql"),
            *("-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", "-d", "ferretdb"),
            *("--csv", "-X", "-c", sql),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        if process.returncode != 0:
            return [{"error": stderr.decode().strip()}]
        return list(csv.DictReader(io.StringIO(stdout.decode())))

    async def snapshot(self, label: str) -> dict[str, Any]:
        snap = {
            "label": label,
            "at": time.strftime("%H:%M:%S", time.gmtime()),
            "statements": await self._query(TOP_STATEMENTS_SQL),
            "tables": await self._query(TABLES_SQL),
            "gin": await self._query(GIN_SQL),
            "database": await self._query(SIZE_SQL),
        }
        await self._query(RESET_SQL)
        self.snapshots.append(snap)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / "snapshots.json").write_text(json.dumps(self.snapshots, indent=1) + "\n")
        return snap

    async def cpu_profile(self, label: str, seconds: int = 20) -> None:
        """A Go CPU profile of FerretDB itself (its debug handler), ``go tool pprof -top`` next to it."""
        if self.server.debug_port is None:
            return
        url = f"http://127.0.0.1:{self.server.debug_port}/debug/pprof/profile?seconds={seconds}"
        async with httpx.AsyncClient(timeout=seconds + 30, trust_env=False) as client:
            response = await client.get(url)
        if response.status_code != 200:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        profile = self.out_dir / f"ferretdb-cpu-{label}.pprof"
        profile.write_bytes(response.content)
        go = shutil.which("go") or "/usr/local/go/bin/go"
        with contextlib.suppress(OSError, TimeoutError):
            top = await asyncio.create_subprocess_exec(
                go, "tool", "pprof", "-top", "-nodecount=40", str(profile),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            text, _ = await asyncio.wait_for(top.communicate(), timeout=120)
            profile.with_suffix(".top.txt").write_bytes(text)

    async def run(self, stop: asyncio.Event) -> None:
        await self.snapshot("start")
        profiler = asyncio.create_task(self._profile_every_minute(stop))
        try:
            await self._snapshot_every_minute(stop)
        finally:
            await profiler

    async def _profile_every_minute(self, stop: asyncio.Event) -> None:
        minute = 0
        while not stop.is_set():
            minute += 1
            with contextlib.suppress(Exception):
                await self.cpu_profile(f"{minute:02d}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval - 20)

    async def _snapshot_every_minute(self, stop: asyncio.Event) -> None:
        minute = 0
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
            minute += 1
            with contextlib.suppress(Exception):
                snap = await self.snapshot(f"minute {minute}")
                top = "; ".join(
                    f"{s.get('calls')}x {s.get('mean_ms')} ms {s.get('query', '')[:90]}"
                    for s in snap["statements"][:3]
                )
                print(f"ferretdb {snap['at']} top: {top}", flush=True)

    def keep_log(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            shutil.copy(self.server.postgres.log_path, self.out_dir / "postgres.log")
        with contextlib.suppress(OSError):
            shutil.copy(self.server.log_path, self.out_dir / "ferretdb.log")
