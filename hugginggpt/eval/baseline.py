"""The no-LLM baseline: answer each request with the gold plan of the most similar *other* request."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from graph.retrieval import nearest
from hugginggpt.eval.scoring import Outcome, score_request
from hugginggpt.eval.taskbench import GoldRecord


def nearest_other(records: Sequence[GoldRecord], index: int) -> GoldRecord:
    """Return the record most similar to ``records[index]`` (TF-IDF cosine), never that record itself.

    Raises:
        ValueError: when there is no other record.
    """
    pool: list[dict[str, Any]] = [
        {"request": record.instruction, "plan": position}
        for position, record in enumerate(records)
        if position != index
    ]
    if not pool:
        raise ValueError("the nearest-request baseline needs at least two records")
    (best,) = nearest(records[index].instruction, pool, 1)
    return records[best["plan"]]


def nearest_baseline(
    records: Sequence[GoldRecord], output_types: Mapping[str, str], count: int | None = None
) -> tuple[list[Outcome], list[dict[str, Any]]]:
    """Score the leave-one-out nearest-request baseline on the first ``count`` records.

    Args:
        records: the gold records of one data file: the pool the plans are copied from.
        output_types: the benchmark's tools -> their output type.
        count: how many of the records to score (default: all).

    Returns:
        One outcome per record, and its prediction (TaskBench's shape, with the id of the copied record).
    """
    outcomes: list[Outcome] = []
    predictions: list[dict[str, Any]] = []
    for index, record in enumerate(records[:count]):
        started = time.perf_counter()
        copied = nearest_other(records, index)
        seconds = time.perf_counter() - started
        score = score_request(record.nodes, copied.nodes, output_types)
        outcomes.append(Outcome(record.shape, score, valid=True, attempts=1, seconds=seconds))
        predictions.append(
            {
                "id": record.id,
                "copied_from": copied.id,
                "result": {"task_steps": [], "task_nodes": list(copied.nodes)},
            }
        )
    return outcomes, predictions
