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
from hugginggpt.eval.scoring import Outcome, score_request
from hugginggpt.eval.taskbench import GoldRecord, plan_to_taskbench
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
) -> Planned:
    """Ask the controller for a plan for each record, one after another, and score it.

    The planner is offered every registered task type (the full registry), with no chat history. A
    request it fails to plan scores as an empty plan.

    Args:
        records: the gold records.
        resources: the services whose ``llm`` is the controller.
        context: the planning limits (``max_plan_retries``, ``history_tokens``).
        output_types: the benchmark's tools -> their output type.
        progress: told after each request.

    Returns:
        The outcomes and predictions, in the records' order.
    """
    outcomes: list[Outcome] = []
    predictions: list[dict[str, Any]] = []
    for done, record in enumerate(records, start=1):
        started = time.perf_counter()
        tasks, attempts, error = await make_plan(
            record.instruction, [], resources.llm, context, resources.structured, tuple(TASKS)
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
