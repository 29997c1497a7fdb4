"""FerretDB v1 (MongoDB wire protocol) on its PostgreSQL handler, over a PostgreSQL cluster of its own.

Why not the SQLite handler: it scans the whole collection even for a lookup by `_id` (ADR 0026 has the
figures); the PostgreSQL handler pushes `_id` and simple equality filters down to SQL and uses real indexes.
FerretDB maps each MongoDB database to a PostgreSQL schema inside one PostgreSQL database (``ferretdb``), so
per-test isolation stays "one MongoDB database per test", dropped with ``dropDatabase``.

Layout of ``base_dir``: ``ferretdb.log``; ``postgres/`` (a ``PostgresServer``: data, socket, log) and
``postgres.port``, the backing cluster's port, remembered so another process (``make up`` then ``make down``,
a second ``make up``) finds the same cluster. ``start()`` starts PostgreSQL first (or adopts the one a
previous process left running on this data directory), then FerretDB; ``stop()`` stops them in reverse.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

from ..endpoints import MongoEndpoint
from ..net import LOOPBACK, free_port, port_is_open, wait_until
from ..supervision import ManagedProcess
from .base import LocalServer, ServerStartError
from .postgres import PG_BIN, SUPERUSER, PostgresServer

FERRETDB_VERSION = "v1.24.2"
# The PostgreSQL database holding every MongoDB database (one schema each).
BACKING_DATABASE = "ferretdb"
# FerretDB v1.24 pushes an equality filter down as `_jsonb->$1 @> $2` (the key a parameter, containment),
# which its own btree indexes on `(_jsonb->'field')` (`_id` included) cannot serve: every lookup by `_id`
# was a sequential scan, ~0.8 µs per document. A GIN twin of each such index can serve `@>` once the planner
# sees the key as a constant, i.e. with custom plans (pgx reuses prepared statements; a generic plan would
# keep the scan). Measured at 10,000 documents: find by `_id` 6.0 -> 1.7 ms, versioned update 6.5 -> 2.1 ms.
# The twins are invisible to FerretDB (its index list is its own metadata) and dropped with their tables.
INDEX_TWINS_SQL = """
ALTER DATABASE ferretdb SET plan_cache_mode = force_custom_plan;
CREATE OR REPLACE FUNCTION gigstack_gin_twin() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
    created record;
    expression text;
    target regclass;
BEGIN
    FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' LOOP
        SELECT pg_get_expr(i.indexprs, i.indrelid), i.indrelid::regclass INTO expression, target
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
        WHERE i.indexrelid = created.objid AND am.amname = 'btree' AND i.indnatts = 1;
        IF expression LIKE '(_jsonb -> %' THEN
            EXECUTE format('CREATE INDEX ON %s USING gin ((%s) jsonb_path_ops)', target, expression);
        END IF;
    END LOOP;
END $$;
DROP EVENT TRIGGER IF EXISTS gigstack_gin_twin;
CREATE EVENT TRIGGER gigstack_gin_twin ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
    EXECUTE FUNCTION gigstack_gin_twin();
"""


# FerretDB's pgx pool to its PostgreSQL (FerretDB's default: 50). FerretDB v1 runs an update (and a delete)
# as a query whose rows stay open while it writes in a second transaction, i.e. on a second pooled connection
# (internal/handler/msg_update.go, common.UpdateDocument), and updates carry no deadline (maxTimeMS is only
# honoured by find/aggregate). With as many concurrent updates as connections, each holds its query's
# connection and waits forever for a second one: the store stops. Cursors a timed-out client never closed
# keep their connection too, so the threshold falls as a soak goes on. That was the whole-app soak's late
# collapse (docs/benchmarks.md, "Soak slowdown of the MongoDB-API store"; a goroutine dump showed 265
# updates waiting for a connection, 7 holding one and waiting for another, 0 statements running). With
# fewer concurrent operations than connections one of them can always take a second connection, so the
# pool is sized above what the services' clients can send together (PyMongo's default maxPoolSize is 100
# per client; gig, chat and users share a store in the whole app) and the cluster's max_connections above
# the pool. Connections are opened on demand: a quiet store keeps the handful it uses.
POOL_MAX_CONNS = 400
BACKING_SETTINGS = (f"max_connections={POOL_MAX_CONNS + 50}",)

# Opt-in instrumentation of the backing cluster (bench/load sets it; tests leave it off): statement
# statistics, the slow-statement log, I/O timing and autovacuum's log, to find what slows under a soak.
DIAGNOSTICS_ENV = "GIGSTACK_FERRETDB_DIAGNOSTICS"
DIAGNOSTIC_SETTINGS = (
    "shared_preload_libraries=pg_stat_statements",
    "pg_stat_statements.max=1000",
    "pg_stat_statements.track=all",
    "log_min_duration_statement=200ms",
    "track_io_timing=on",
    "log_autovacuum_min_duration=0",
    "log_lock_waits=on",
    "log_line_prefix=%m [%p] %a ",
)

# pgstattuple: the GIN twins' pending lists (pgstatginindex) in the benchmark's snapshots.
DIAGNOSTIC_SQL = """
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pgstattuple;
"""


def diagnostics_requested() -> bool:
    return os.environ.get(DIAGNOSTICS_ENV, "") not in ("", "0", "false")


def cache_dir() -> Path:
    return Path(os.environ.get("GIGSTACK_CACHE", Path.home() / ".cache" / "gigstack"))


def ferretdb_binary() -> Path:
    binary = cache_dir() / f"ferretdb-{FERRETDB_VERSION}"
    if not binary.exists():
        raise FileNotFoundError(f"{binary} is missing: run scripts/install-deps.sh")
    return binary


class FerretDBServer(LocalServer):
    name = "ferretdb"

    def __init__(
        self,
        base_dir: Path,
        port: int,
        *,
        detached: bool = False,
        durable: bool = False,
        postgres_port: int | None = None,
        diagnostics: bool | None = None,
    ) -> None:
        super().__init__(base_dir, detached=detached)
        self.port = port
        self.durable = durable
        self.diagnostics = diagnostics_requested() if diagnostics is None else diagnostics
        # With diagnostics, FerretDB's debug handler (Go pprof, /debug/pprof/profile) on a loopback port.
        self.debug_port: int | None = free_port() if self.diagnostics else None
        self.postgres = self._backing_server(postgres_port or self._remembered_port())
        # The postmaster a previous process started (detached) on this data directory, adopted by ``start()``.
        self._adopted_postgres: int | None = None

    @property
    def endpoint(self) -> MongoEndpoint:
        return MongoEndpoint(LOOPBACK, self.port)

    @property
    def postgres_url(self) -> str:
        return (
            f"postgres://{SUPERUSER}@{LOOPBACK}:{self.postgres.port}/{BACKING_DATABASE}"
            f"?pool_max_conns={POOL_MAX_CONNS}"
        )

    @property
    def _port_file(self) -> Path:
        return self.base_dir / "postgres.port"

    def _backing_server(self, port: int) -> PostgresServer:
        self._port_file.write_text(f"{port}\n")
        settings = BACKING_SETTINGS + (DIAGNOSTIC_SETTINGS if self.diagnostics else ())
        return PostgresServer(
            self.base_dir / "postgres", port, detached=self.detached, durable=self.durable, settings=settings
        )

    def _remembered_port(self) -> int:
        with contextlib.suppress(OSError, ValueError):
            return int(self._port_file.read_text().strip())
        return free_port()

    def _live_postmaster(self) -> int | None:
        """The pid of a PostgreSQL already running on our data directory and port, if any."""
        try:
            lines = (self.postgres.data_dir / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return pid if port == self.postgres.port else None

    # --- lifecycle: PostgreSQL first, FerretDB second -----------------------------------------------------

    def start(self) -> None:
        if self.is_running():
            return
        self._start_postgres()
        try:
            super().start()
        except ServerStartError:
            self._stop_postgres()
            raise

    def _start_postgres(self) -> None:
        if self.postgres.is_running():
            return
        self._adopted_postgres = self._live_postmaster()
        if self._adopted_postgres is not None:
            self.postgres.wait_ready()
            return
        if port_is_open(self.postgres.port):
            # Someone else took the remembered port while the stack was down: move to a fresh one.
            self.postgres = self._backing_server(free_port())
        self.postgres.start()

    def prepare(self) -> None:
        createdb = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                str(PG_BIN / "createdb"),
                "-h",
                LOOPBACK,
                "-p",
                str(self.postgres.port),
                "-U",
                SUPERUSER,
                BACKING_DATABASE,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if createdb.returncode != 0 and "already exists" not in createdb.stderr:
            raise ServerStartError(f"createdb {BACKING_DATABASE}: {createdb.stderr.strip()}")
        twins = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                str(PG_BIN / "psql"),
                *("-h", LOOPBACK, "-p", str(self.postgres.port), "-U", SUPERUSER, "-d", BACKING_DATABASE),
                *("-v", "ON_ERROR_STOP=1", "-q", "-c", self._setup_sql()),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if twins.returncode != 0:
            raise ServerStartError(f"index twins in {BACKING_DATABASE}: {twins.stderr.strip()}")

    def _setup_sql(self) -> str:
        if self.diagnostics:
            return INDEX_TWINS_SQL + DIAGNOSTIC_SQL
        return INDEX_TWINS_SQL

    def build_process(self) -> ManagedProcess:
        args = [
            str(ferretdb_binary()),
            "--handler=postgresql",
            f"--postgresql-url={self.postgres_url}",
            f"--listen-addr={LOOPBACK}:{self.port}",
            "--state-dir=-",
            f"--debug-addr={LOOPBACK}:{self.debug_port}" if self.debug_port else "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=warn",
        ]
        return ManagedProcess(self.name, args, log_path=self.log_path, detached=self.detached)

    def wait_ready(self) -> None:
        wait_until(
            lambda: port_is_open(self.port),
            timeout=self.start_timeout,
            what="ferretdb",
            abort=self.exit_reason,
        )

    def stop(self) -> None:
        super().stop()
        self._stop_postgres()

    def _stop_postgres(self) -> None:
        # Only the cluster this object started: an adopted one belongs to the pid files of whoever started it.
        self.postgres.stop()

    def kill(self) -> None:
        """SIGKILL FerretDB and its PostgreSQL (a crash of the whole store); ``start()`` brings both back."""
        super().kill()
        self.postgres.kill()

    def is_running(self) -> bool:
        postgres_up = self.postgres.is_running() or self._live_postmaster() is not None
        return super().is_running() and postgres_up

    def pids(self) -> list[int]:
        """Process groups to record for a detached store: FerretDB's and its PostgreSQL's."""
        postgres = self.postgres.pid or self._adopted_postgres
        return [pid for pid in (self.pid, postgres) if pid is not None]
