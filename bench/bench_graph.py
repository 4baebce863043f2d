"""Benchmark the graph itself: per-request overhead with instant tools, and fan-out concurrency efficiency.

Run: python -m bench.bench_graph [--requests 50] [--tasks 8] [--task-seconds 0.5]
The last line is machine-readable: overhead_ms_p50=<x> concurrency_efficiency=<y>
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.fakes import fake_card, fake_catalog, make_harness, plan_reply


def _plan(count: int, task: str = "summarization") -> list[dict[str, object]]:
    return [{"id": i, "task": task, "dep": [-1], "args": {"text": f"text {i}"}} for i in range(count)]


async def overhead(requests: int, tasks: int, tmp: Path, with_planner: bool) -> list[float]:
    """Return per-request wall times (ms) with instant fake tools and an instant scripted controller."""
    times = []
    for index in range(requests):
        plan = _plan(tasks)
        replies = [plan_reply(*plan), "ok"] if with_planner else ["ok"]
        harness = make_harness(tmp / str(index), replies)
        inputs: dict[str, object] = {} if with_planner else {"plan": plan}
        started = time.perf_counter()
        await harness.run("bench", **inputs)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def concurrency(tasks: int, seconds: float, tmp: Path) -> tuple[float, float]:
    """Return (wall seconds, critical path / wall) for ``tasks`` independent tasks of ``seconds`` each."""
    catalog = fake_catalog([fake_card("sleepy", "summarization", 10**9, sleep=seconds)])
    harness = make_harness(tmp / "concurrency", ["ok"], catalog=catalog, max_parallel_tasks=tasks)
    started = time.perf_counter()
    state = await harness.run("bench", plan=_plan(tasks))
    wall = time.perf_counter() - started
    assert all(result["status"] == "done" for result in state["results"])
    return wall, seconds / wall


def main() -> None:
    """Run both measurements and print a table, then the summary line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--task-seconds", type=float, default=0.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        asyncio.run(overhead(3, 3, tmp / "warmup", with_planner=True))
        given = asyncio.run(overhead(args.requests, 3, tmp / "given", with_planner=False))
        planned = asyncio.run(overhead(args.requests, 3, tmp / "planned", with_planner=True))
        wide = asyncio.run(overhead(args.requests, args.tasks, tmp / "wide", with_planner=True))
        wall, efficiency = asyncio.run(concurrency(args.tasks, args.task_seconds, tmp))
    print(f"{'measurement':<52} {'p50':>9} {'p90':>9}")
    for name, times in (
        ("overhead, given 3-task plan (ms/request)", given),
        ("overhead, planned 3-task request (ms/request)", planned),
        (f"overhead, planned {args.tasks}-task request (ms/request)", wide),
    ):
        p90 = statistics.quantiles(times, n=10)[-1]
        print(f"{name:<52} {statistics.median(times):>9.2f} {p90:>9.2f}")
    print(
        f"{args.tasks} independent tasks of {args.task_seconds}s: wall {wall:.3f}s, "
        f"critical path {args.task_seconds}s, efficiency {efficiency:.3f}"
    )
    print(f"overhead_ms_p50={statistics.median(planned):.2f} concurrency_efficiency={efficiency:.3f}")


if __name__ == "__main__":
    main()
