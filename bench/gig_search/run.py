"""Gig search: `gigs.search` through the gateway versus the same queries straight to the search engine, with
100,000 gigs indexed; and projection lag (gig write answered -> visible to search) under a steady write load.

One run starts FerretDB, RabbitMQ, Redis and OpenSearch through ``gigstack_testinfra``, bulk-loads the gigs
into the read model, starts gig and the gateway as real processes, then:

1. alternates equal time slices of closed-loop load (gateway, engine, gateway, ...) over one list of mixed
   queries (words, categories, price and delivery filters, every sort, some second pages by cursor); the
   engine target sends each query exactly as the gig service builds it (same query, sort, facets, size);
2. writes gigs at a steady rate straight to the gig service (write model -> outbox -> RabbitMQ -> projection
   -> OpenSearch, the real path) and polls the engine for each id until a search finds it.

The load is a bulk load of the read model through `GigSearchIndex.reindex` (the `reindex` command's bulk
path: same documents, external versions, alias swap), not 100,000 writes through the write model; the lag
figures come from the real write path. Exit code 1 when p95(gateway) / p95(engine) > 2.0. Usage::

    uv run python bench/gig_search/run.py                       # 100,000 gigs, 3 x 20 s per target
    uv run python bench/gig_search/run.py --gigs 20000 --duration 10 --rounds 2 --writes 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from gig_service.adapters.search_index import GigSearchIndex
from gig_service.adapters.search_mapping import document_of
from gig_service.adapters.search_queries import FACETS, SORTS, GigQuery, build_query
from gig_service.domain.model import Gig
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import choose_backend
from gigstack_testinfra.keys import generate_ed25519_pem_pair
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.processes import ServiceProcess
from servicekit.search import create_search_client
from servicekit.security import InternalTokenIssuer

P95_RATIO_TARGET = 2.0
ACCESS_TOKEN_SECRET = "bench-access-token-key-0123456789abcdef-not-for-production"
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"
REQUEST_TIMEOUT_SECONDS = 10.0

CATEGORIES = [
    "design", "writing", "video", "music", "programming", "marketing",
    "translation", "business", "data", "photography", "lifestyle", "ai",
]  # fmt: skip
WORDS = [
    "logo", "website", "brand", "portrait", "illustration", "copywriting", "blog", "seo", "animation", "edit",
    "podcast", "mixing", "python", "react", "api", "wordpress", "shopify", "ads", "social", "translate",
    "german", "spanish", "resume", "pitch", "excel", "dashboard", "sql", "product", "wedding", "fitness",
    "chatbot", "model", "voice", "jingle", "landing", "mobile", "app", "icon", "banner", "infographic",
]  # fmt: skip
SORT_NAMES = list(SORTS)
SELLERS = 2_000


def _gig(rng: random.Random, number: int, now: datetime) -> Gig:
    words = rng.sample(WORDS, 4)
    category = CATEGORIES[number % len(CATEGORIES)]
    count = rng.choice((0, 0, 1, 3, 8, 20, 55))
    gig = Gig(
        seller_id=f"seller-{rng.randrange(SELLERS)}",
        title=f"I will do {words[0]} and {words[1]} {category} work",
        description=" ".join(rng.choices(WORDS, k=30)),
        category=category,
        price=int(math.exp(rng.uniform(math.log(500), math.log(200_000)))),
        currency="USD",
        delivery_days=rng.randint(1, 30),
        tags=words[:3],
        sub_categories=[f"{category}-{words[2]}"],
        active=rng.random() > 0.05,
        rating_sum=sum(rng.randint(3, 5) for _ in range(count)),
        rating_count=count,
        created_at=now - timedelta(minutes=rng.randrange(525_600)),
    )
    gig.updated_at = gig.created_at
    return gig


async def _documents(count: int, seed: int) -> AsyncIterator[tuple[dict[str, Any], int]]:
    rng, now = random.Random(seed), datetime.now(UTC)
    for number in range(count):
        yield document_of(_gig(rng, number, now), 1), 1
        if number % 5000 == 0:
            await asyncio.sleep(0)  # let the bulk requests go out


@dataclass(frozen=True)
class Query:
    params: dict[str, str]  # for gigs.search
    gig_query: GigQuery
    sort: str
    size: int


def _queries(count: int, seed: int) -> list[Query]:
    """Mixed traffic: mostly one or two words, often a category, sometimes price/delivery filters."""
    rng, found = random.Random(seed), []
    for _ in range(count):
        text = " ".join(rng.sample(WORDS, rng.choice((0, 1, 1, 1, 2))))
        category = rng.choice(CATEGORIES) if rng.random() < 0.4 else None
        low = rng.choice((None, None, 1000, 2500, 10000))
        high = rng.choice((None, None, 5000, 20000, 100000)) if low is None or low < 5000 else None
        days = rng.choice((None, None, None, 3, 7, 14))
        sort = (
            rng.choice(("relevance", "relevance", "relevance", *SORT_NAMES))
            if text
            else rng.choice(SORT_NAMES)
        )
        size = rng.choice((10, 20, 20, 50))
        params = {"sort": sort, "size": str(size)}
        optional = {"q": text or None, "category": category, "min_price": low, "max_price": high,
                    "max_delivery_days": days}  # fmt: skip
        for name, value in optional.items():
            if value is not None:
                params[name] = str(value)
        found.append(Query(params, GigQuery(text or None, category, None, low, high, days), sort, size))
    return found


def engine_body(query: Query) -> dict[str, Any]:
    """The body the gig service sends for `query` (GigSearchIndex.find -> SearchIndex.page)."""
    return {
        "query": build_query(query.gig_query),
        "size": query.size,
        "sort": [*SORTS[query.sort], {"id": "asc"}],
        "track_total_hits": True,
        "aggs": FACETS,
    }


@dataclass
class Latencies:
    label: str
    seconds: float = 0.0
    samples: list[float] = field(default_factory=list)
    errors: int = 0

    def percentile(self, fraction: float) -> float:
        if not self.samples:
            return math.nan
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]

    def row(self) -> dict[str, Any]:
        return {
            "target": self.label,
            "requests": len(self.samples),
            "errors": self.errors,
            "req_per_s": round(len(self.samples) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(self.percentile(0.50) * 1000, 1),
            "p95_ms": round(self.percentile(0.95) * 1000, 1),
            "p99_ms": round(self.percentile(0.99) * 1000, 1),
        }


async def _load(
    target: str, client: httpx.AsyncClient, queries: list[Query], alias: str, *, workers: int, seconds: float
) -> Latencies:
    result = Latencies(target)
    deadline = time.perf_counter() + seconds
    position = 0

    async def worker() -> None:
        nonlocal position
        while time.perf_counter() < deadline:
            query = queries[position % len(queries)]
            position += 1
            sent = time.perf_counter()
            try:
                if target == "gateway":
                    response = await client.get("/api/v1/gateway/gigs/search", params=query.params)
                else:
                    response = await client.post(f"/{alias}/_search", json=engine_body(query))
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                result.samples.append(time.perf_counter() - sent)
            else:
                result.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    result.seconds = time.perf_counter() - started
    return result


async def _projection_lag(gig_url: str, search_url: str, alias: str, issuer: InternalTokenIssuer, *,
                          writes: int, rate: float) -> list[float]:  # fmt: skip
    """Seconds from each create's 201 answer to the first search (engine, `ids` query) that finds it."""
    answered: dict[str, float] = {}
    seen: dict[str, float] = {}
    seller = "lag-seller"
    done = asyncio.Event()

    async def poll(client: httpx.AsyncClient) -> None:
        while not (done.is_set() and len(seen) == len(answered)):
            pending = [gig for gig in answered if gig not in seen]
            if pending:
                body = {"size": len(pending), "_source": False, "query": {"ids": {"values": pending}}}
                response = await client.post(f"/{alias}/_search", json=body)
                now = time.perf_counter()
                for hit in response.json()["hits"]["hits"]:
                    seen.setdefault(hit["_id"], now)
            await asyncio.sleep(0.02)

    async with (
        httpx.AsyncClient(base_url=gig_url, timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as gig,
        httpx.AsyncClient(base_url=search_url, timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as engine,
    ):
        poller = asyncio.create_task(poll(engine))
        interval = 1.0 / rate
        for number in range(writes):
            tick = time.perf_counter()
            token = issuer.issue("gig", subject=seller)
            body = {"title": f"Lag probe {number}", "description": "Measured", "category": "design",
                    "price": 1000 + number, "delivery_days": 3}  # fmt: skip
            response = await gig.post("/api/v1/gigs", json=body, headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
            answered[response.json()["id"]] = time.perf_counter()
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - tick)))
        done.set()
        await asyncio.wait_for(poller, timeout=120)
    return [seen[gig] - answered[gig] for gig in answered]


def _service(name: str, module: str, env: dict[str, str], log_dir: Path) -> ServiceProcess:
    port = free_port()
    return ServiceProcess(
        name, [sys.executable, "-m", module], {**env, "PORT": str(port)}, port, log_dir / f"{name}.log"
    )


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    backend = choose_backend()
    log_dir = Path(tempfile.mkdtemp(prefix="gigstack-bench-gig-search-"))
    processes: list[ServiceProcess] = []
    search = backend.opensearch()
    alias = f"{isolation.unique_name('bench')}_gigs"
    client = create_search_client(search.url, timeout_seconds=120)
    try:
        started = time.perf_counter()
        index = GigSearchIndex(client, alias)
        await index.reindex(_documents(args.gigs, args.seed), batch_size=2000, started=datetime.now(UTC))
        load_seconds = time.perf_counter() - started
        count = (await client.count(index=alias))["count"]
        print(f"bulk-loaded {count} gigs into {alias} in {load_seconds:.1f}s", flush=True)

        mongodb, broker, redis = backend.mongodb(), backend.rabbitmq().endpoint, backend.redis()
        database, vhost = isolation.unique_name("bench"), isolation.unique_name("bench")
        isolation.create_vhost(broker, vhost)
        private_pem, public_pem = generate_ed25519_pem_pair()
        common = {"ENVIRONMENT": "test", "HOST": LOOPBACK, "LOG_LEVEL": "WARNING",
                  "INTERNAL_TOKEN_PUBLIC_KEY": public_pem}  # fmt: skip
        gig = _service("gig", "gig_service", {**common, "MONGODB_URL": mongodb.url(database),
                       "AMQP_URL": broker.url(vhost), "SEARCH_URL": search.url, "SEARCH_INDEX_ALIAS": alias},
                       log_dir)  # fmt: skip
        gateway = _service(
            "gateway",
            "gateway_service",
            {
                **common,
                "REDIS_URL": redis.url(isolation.RedisDatabaseAllocator(redis).allocate()),
                "INTERNAL_TOKEN_PRIVATE_KEY": private_pem,
                "ACCESS_TOKEN_SECRET": ACCESS_TOKEN_SECRET,
                "GIG_SERVICE_URL": gig.base_url,
                "RATE_LIMIT_PER_IP_PER_MINUTE": "100000000",
                "RATE_LIMIT_PER_ACCOUNT_PER_MINUTE": "100000000",
            },
            log_dir,
        )
        for process in (gig, gateway):
            process.start()
            processes.append(process)
            await process.wait_ready(timeout=120)

        queries = _queries(args.queries, args.seed)
        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        totals = {name: Latencies(name) for name in ("gateway", "engine")}
        async with (
            httpx.AsyncClient(base_url=gateway.base_url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS,
                              trust_env=False) as via_gateway,
            httpx.AsyncClient(base_url=search.url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS,
                              trust_env=False) as to_engine,
        ):  # fmt: skip
            targets = {"gateway": via_gateway, "engine": to_engine}
            for name, target in targets.items():  # warm caches and connections on both
                await _load(name, target, queries, alias, workers=args.concurrency, seconds=args.warmup)
            for _ in range(args.rounds):
                for name, target in targets.items():
                    sliced = await _load(
                        name, target, queries, alias, workers=args.concurrency, seconds=args.duration
                    )
                    totals[name].samples += sliced.samples
                    totals[name].errors += sliced.errors
                    totals[name].seconds += sliced.seconds
        ratio = totals["gateway"].percentile(0.95) / totals["engine"].percentile(0.95)

        lags = await _projection_lag(
            gig.base_url,
            search.url,
            alias,
            InternalTokenIssuer(private_pem),
            writes=args.writes,
            rate=args.rate,
        )
        return {
            "benchmark": "gig_search",
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "gigs_indexed": count,
            "bulk_load": {
                "path": "GigSearchIndex.reindex (bulk, external versions)",
                "seconds": round(load_seconds, 1),
            },
            "search": {
                "concurrency": args.concurrency,
                "rounds": args.rounds,
                "seconds_per_slice": args.duration,
                "distinct_queries": len(queries),
                "targets": [totals["gateway"].row(), totals["engine"].row()],
                "p95_ratio_gateway_over_engine": round(ratio, 2),
                "p95_ratio_target": P95_RATIO_TARGET,
            },
            "projection_lag": {
                "writes": len(lags),
                "rate_per_s": args.rate,
                "p50_ms": round(_percentile(lags, 0.50) * 1000, 1),
                "p95_ms": round(_percentile(lags, 0.95) * 1000, 1),
                "max_ms": round(max(lags) * 1000, 1),
            },
            "passed": ratio <= P95_RATIO_TARGET,
        }
    finally:
        for process in reversed(processes):
            process.terminate()
        for name in await GigSearchIndex(client, alias).physical_indices():
            await client.indices.delete(index=name, params={"ignore_unavailable": "true"})
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500, help="distinct mixed queries, cycled")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per target per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--writes", type=int, default=150, help="gigs written for the projection lag")
    parser.add_argument("--rate", type=float, default=5.0, help="writes per second for the projection lag")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    summary = asyncio.run(measure(args))
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "gig_search.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    if not summary["passed"]:
        print(
            f"FAIL: p95 gateway / engine {summary['search']['p95_ratio_gateway_over_engine']}"
            f" > {P95_RATIO_TARGET}"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
