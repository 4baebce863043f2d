"""Benchmark the planner on hand-labelled requests: task-type and link F1, valid plans, seconds per plan.

Run: ``python -m bench.bench_planner [--controller local/smollm2] [--cases bench/planner_cases.json]``.
Scores follow TaskBench's definitions: node F1 over the multiset of task types, link F1 over
(source task type, target task type) pairs. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from graph.context import load_context
from graph.llm import load_chat_model
from graph.plan import make_plan

CASES = Path(__file__).with_name("planner_cases.json")


def f1(predicted: Counter[Any], gold: Counter[Any]) -> tuple[float, float, float]:
    """Return (true positives, predicted count, gold count) for micro-averaged F1."""
    return float(sum((predicted & gold).values())), float(sum(predicted.values())), float(sum(gold.values()))


def micro_f1(parts: list[tuple[float, float, float]]) -> float:
    """Return micro F1 (in percent) from per-case (tp, predicted, gold)."""
    tp, predicted, gold = (sum(values) for values in zip(*parts, strict=True))
    if predicted + gold == 0:
        return 100.0
    return 200.0 * tp / (predicted + gold)


async def run(controller: str | None, cases_path: Path) -> None:
    """Plan every case and print one line each, then the totals."""
    context = load_context(None, controller=controller)
    llm = load_chat_model(context.controller)
    cases = json.loads(cases_path.read_text(encoding="utf-8"))
    nodes, links, seconds, valid = [], [], [], 0
    for case in cases:
        started = time.perf_counter()
        tasks, attempts, error = await make_plan(case["request"], [], llm, context)
        seconds.append(time.perf_counter() - started)
        names = [task["task"] for task in tasks]
        by_id = {task["id"]: task["task"] for task in tasks}
        edges = Counter((by_id[dep], task["task"]) for task in tasks for dep in task["dep"] if dep in by_id)
        gold_edges = Counter((case["tasks"][a], case["tasks"][b]) for a, b in case["links"])
        nodes.append(f1(Counter(names), Counter(case["tasks"])))
        links.append(f1(edges, gold_edges))
        valid += error is None
        print(
            f"{seconds[-1]:5.1f}s x{attempts} {'ok ' if error is None else 'BAD'} {names}"
            f" | gold {case['tasks']}"
        )
    print(
        f"node_f1={micro_f1(nodes):.1f} link_f1={micro_f1(links):.1f} valid={valid}/{len(cases)} "
        f"s_per_plan_p50={statistics.median(seconds):.2f}"
    )


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--controller", help="provider/model (default: the configured controller)")
    parser.add_argument("--cases", type=Path, default=CASES)
    args = parser.parse_args()
    asyncio.run(run(args.controller, args.cases))


if __name__ == "__main__":
    main()
