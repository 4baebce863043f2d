"""Plan every TaskBench request with the configured controller and score each plan."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.context import Context
from graph.plan import make_plan
from graph.services import Resources
from hugginggpt.eval.gold_plans import map_gold_plan
from hugginggpt.eval.scoring import Outcome, score_request
from hugginggpt.eval.taskbench import GoldRecord, our_name, plan_to_taskbench
from tools.registry import TASKS

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (requests done, requests in all) after each plan."""


@dataclass(frozen=True)
class Planned:
    """The outcomes of planning a data file, and one prediction line per request."""

    outcomes: list[Outcome]
    predictions: list[dict[str, Any]]


async def plan_records(
    records: Sequence[GoldRecord],
    resources: Resources,
    context: Context,
    output_types: Mapping[str, str],
    progress: Progress | None = None,
    pool_records: Sequence[GoldRecord] | None = None,
) -> Planned:
    """Ask the controller for a plan for each record, one after another, and score it.

    The planner is offered the benchmark's tools that we have (as TaskBench offers its tools to the
    controller), with no chat history, and few-shot demos drawn from the other records' gold plans
    (leave-one-out: a request's own plan is never among its demos). A request it fails to plan scores as an
    empty plan.

    Args:
        records: the gold records.
        resources: the services whose ``llm`` is the controller.
        context: the planning limits (``max_plan_retries``, ``history_tokens``).
        output_types: the benchmark's tools -> their output type.
        progress: told after each request.
        pool_records: the records whose gold plans serve as demos (default: ``records``).

    Returns:
        The outcomes and predictions, in the records' order.
    """
    outcomes: list[Outcome] = []
    predictions: list[dict[str, Any]] = []
    names = benchmark_task_names(output_types)
    pool = demo_pool(pool_records if pool_records is not None else records)
    for done, record in enumerate(records, start=1):
        started = time.perf_counter()
        others = [d for key, d in pool if key != record.id and d["request"] != record.instruction]
        tasks, attempts, error = await make_plan(
            record.instruction, [], resources.llm, context, resources.structured, names, others
        )
        seconds = time.perf_counter() - started
        if error:
            logger.info("request %s: no plan (%s)", record.id, error)
        converted = plan_to_taskbench(tasks, output_types)
        score = score_request(record.nodes, converted["task_nodes"], output_types)
        outcomes.append(Outcome(record.shape, score, not error, attempts, seconds))
        predictions.append(
            {
                "id": record.id,
                "result": {"task_steps": [], **converted},
                "plan": tasks,
                "error": error,
                "attempts": attempts,
                "seconds": round(seconds, 3),
            }
        )
        if progress is not None:
            progress(done, len(records))
    return Planned(outcomes, predictions)


def benchmark_task_names(output_types: Mapping[str, str]) -> tuple[str, ...]:
    """Return our task types for the benchmark's tools, in its order (all registered ones when none match)."""
    names = tuple(dict.fromkeys(our_name(tool) for tool in output_types if our_name(tool) in TASKS))
    return names or tuple(TASKS)


def demo_pool(records: Sequence[GoldRecord]) -> list[tuple[str, dict[str, Any]]]:
    """Return ``(record id, demo)`` for each record whose gold plan maps onto our task types.

    The caller leaves out the demo of the request being planned (by its id and by its text).
    """
    pool = []
    for record in records:
        mapped = map_gold_plan(record.nodes)
        if mapped.mapped:
            pool.append((record.id, {"request": record.instruction, "plan": mapped.plan}))
    return pool
