"""Load on `hugginggpt serve`: concurrent HTTP clients sending given plans, as a deployment would see them.

Starts a scripted OpenAI-compatible controller (instant answers) and the server on a free loopback port,
then runs ``--clients`` clients for ``--requests`` requests in all, and prints requests/s, latency
percentiles, errors, and the server's resident memory before and after.

Run: python -m bench.bench_load [--clients 32] [--requests 400] [--models fake|packaged]
``fake`` models answer instantly (the server's own cost); ``packaged`` runs MiniLM sentence similarity.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.openai_server import ScriptedOpenAIServer
from tests.integration.servers import ServerProcess, fake_settings, server_env, start_serve

PLANS = {
    "fake": [
        {"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "a long text"}},
        {"id": 1, "task": "text-to-speech", "dep": [0], "args": {"text": "<GENERATED>-0"}},
        {"id": 2, "task": "text-to-image", "dep": [-1], "args": {"text": "a fox"}},
    ],
    "packaged": [
        {
            "id": 0,
            "task": "sentence-similarity",
            "dep": [-1],
            "args": {"text": "a cat sat", "other": "a cat sits"},
        },
        {
            "id": 1,
            "task": "sentence-similarity",
            "dep": [-1],
            "args": {"text": "a dog ran", "other": "stocks fell"},
        },
    ],
}


def rss_mb(pid: int) -> float:
    """Return a process's resident memory in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def load(
    url: str, plan: list[dict[str, Any]], clients: int, requests: int
) -> tuple[list[float], list[str]]:
    """Send ``requests`` requests from ``clients`` concurrent clients; return latencies (s) and errors."""
    latencies: list[float] = []
    errors: list[str] = []
    remaining = iter(range(requests))
    body = {"messages": [{"role": "user", "content": "run the plan"}], "plan": plan}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            for _ in remaining:
                started = time.perf_counter()
                try:
                    reply = await http.post("/hugginggpt", json=body)
                    if reply.status_code != 200 or "Tasks:" not in reply.json().get("message", ""):
                        errors.append(f"{reply.status_code}: {reply.text[:200]}")
                except httpx.HTTPError as error:
                    errors.append(f"{type(error).__name__}: {error}")
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors


def start(tmp: Path, models: str, controller: ScriptedOpenAIServer) -> ServerProcess:
    """Start the server with the fake catalog, or the packaged one (MiniLM and friends)."""
    extra = {} if models == "fake" else {"catalogs": ["catalog.offline.yaml"], "runners": []}
    return start_serve(fake_settings(tmp, **extra), server_env(controller.url), timeout_s=120)


def main() -> None:
    """Run the load and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--models", choices=sorted(PLANS), default="fake")
    args = parser.parse_args()
    plan = PLANS[args.models]
    with tempfile.TemporaryDirectory() as folder, ScriptedOpenAIServer(default="Load answer.") as controller:
        server = start(Path(folder), args.models, controller)
        try:
            asyncio.run(load(server.url, plan, 4, 8))  # warm up: models loaded, first threads written
            before = rss_mb(server.process.pid)
            started = time.perf_counter()
            latencies, errors = asyncio.run(load(server.url, plan, args.clients, args.requests))
            wall = time.perf_counter() - started
            after = rss_mb(server.process.pid)
        finally:
            server.stop()
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{args.requests} requests, {args.clients} clients, "
        f"{len(plan)}-task given plans on {args.models} models"
    )
    print(f"requests/s {args.requests / wall:.1f} · wall {wall:.1f}s")
    print(f"latency p50 {statistics.median(latencies) * 1000:.0f} ms · p95 {cuts[94] * 1000:.0f} ms")
    print(f"errors {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(f"server RSS {before:.0f} MB after warm-up -> {after:.0f} MB after the load")
    print(
        f"rps={args.requests / wall:.1f} p50_ms={statistics.median(latencies) * 1000:.0f} "
        f"p95_ms={cuts[94] * 1000:.0f} errors={len(errors)} rss_start_mb={before:.0f} rss_end_mb={after:.0f}"
    )


if __name__ == "__main__":
    main()
