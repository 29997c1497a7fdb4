"""Idle and after-load RSS of the storefront alone, for its Deployment's requests and limits.

Starts what the storefront needs through ``gigstack_testinfra`` (its Redis) and a small stand-in for the
gateway's public API (uvicorn on loopback, canned gig pages), runs ``python -m storefront_service`` as a real
process, lets it idle and reads its resident set (psutil, process plus children); then renders pages (home,
search, sign-in form, a static file) with new browser sessions and reads it again, sampling the peak::

    uv run python bench/idle_memory/storefront_alone.py --idle 20 --pages 1500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from gigstack_testinfra.backends import choose_backend
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.processes import ServiceProcess

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import PeakSampler, tree_memory

CONCURRENCY = 16


def fake_gateway() -> FastAPI:
    app = FastAPI()

    def gig(index: int) -> dict[str, Any]:
        return {
            "id": f"g{index}", "seller_id": "s1", "title": f"Logo design number {index}",
            "description": "A logo.", "category": "Design", "sub_categories": [], "tags": ["logo"],
            "price": 2500 + index, "currency": "USD", "delivery_days": 3, "cover_image_key": None,
            "active": True, "rating_average": 4.5, "rating_count": 3, "seller_username": "sam",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "version": 1,
        }  # fmt: skip

    page = {
        "items": [gig(i) for i in range(12)],
        "total": 120,
        "next_cursor": "next",
        "facets": {"categories": [{"key": "Design", "count": 80}, {"key": "Writing", "count": 40}]},
    }

    @app.get("/api/v1/gateway/gigs/top-rated")
    @app.get("/api/v1/gateway/gigs/search")
    @app.get("/api/v1/gateway/gigs/category/{category}")
    async def gigs(category: str = "") -> dict[str, Any]:
        return page

    return app


def serve(app: FastAPI, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


async def load(base_url: str, pages: int) -> dict[str, float]:
    paths = ["/", "/search?q=logo", "/search?q=logo&category=Design&sort=rating", "/signin"]
    errors = 0
    started = time.perf_counter()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for index in range(pages):
        queue.put_nowait(paths[index % len(paths)])

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            path = queue.get_nowait()
            # A new browser (no cookie) every time: each page view creates a session, the worst case.
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as browser:
                if (await browser.get(path)).status_code != 200:
                    errors += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    seconds = time.perf_counter() - started
    return {"pages": pages, "errors": errors, "pages_per_second": round(pages / seconds, 1)}


async def measure(idle_seconds: float, pages: int) -> dict[str, Any]:
    redis = choose_backend().redis()
    gateway_port, port = free_port(), free_port()
    gateway = serve(fake_gateway(), gateway_port)
    process = ServiceProcess(
        "storefront",
        [sys.executable, "-m", "storefront_service"],
        {
            "PORT": str(port),
            "ENVIRONMENT": "test",
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": redis.url(15),
            "GATEWAY_URL": f"http://{LOOPBACK}:{gateway_port}",
        },
        port,
        Path(tempfile.mkdtemp(prefix="gigstack-storefront-idle-")) / "storefront.log",
    )
    process.start()
    try:
        await process.wait_ready(timeout=90)
        await asyncio.sleep(idle_seconds)
        assert process.pid is not None
        idle = tree_memory(process.pid)
        sampler = PeakSampler({"storefront": process.pid})
        async with sampler.sampling():
            outcome = await load(process.base_url, pages)
        await asyncio.sleep(5)
        after = tree_memory(process.pid)
        return {
            "idle_rss_mib": round(idle.rss_mib, 1),
            "idle_uss_mib": round(idle.uss_mib, 1),
            "after_load_rss_mib": round(after.rss_mib, 1),
            "peak_rss_mib": round(sampler.peaks.get("storefront", 0) / 1024 / 1024, 1),
            **outcome,
        }
    finally:
        process.terminate()
        gateway.should_exit = True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--pages", type=int, default=1500)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.idle, args.pages))))


if __name__ == "__main__":
    main()
