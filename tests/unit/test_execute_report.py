"""Why gold-plan runs did not finish: task failures classified, one cause per request, the table."""

from __future__ import annotations

from typing import Any

from hugginggpt.eval.execute import GoldEntry, RequestOutcome
from hugginggpt.eval.execute_report import (
    NO_MODEL,
    REFUSED,
    RUNNER_ERROR,
    TIMEOUT,
    cause_of,
    outcome_json,
    render_summary,
    task_cause,
)
from hugginggpt.eval.gold_plans import NO_SUCH_TASK, map_gold_plan


def failed(task: str, error: str, attempts: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": 0,
        "task": task,
        "status": "failed",
        "model": None,
        "error": error,
        "attempts": attempts or [],
    }


def entry(*nodes: dict[str, Any], shape: str = "single") -> GoldEntry:
    return GoldEntry("r1", shape, "do it", map_gold_plan(list(nodes)))


def test_task_failures_are_classified_by_what_the_graph_says() -> None:
    no_model = failed(
        "text-to-image", "no model available offline for text-to-image (a, b cannot run here now)"
    )
    assert (task_cause(no_model).kind, task_cause(no_model).subject) == (NO_MODEL, "text-to-image")
    raised = failed("image-to-text", "m: RuntimeError: boom", ["m: RuntimeError: boom"])
    assert (task_cause(raised).kind, task_cause(raised).subject) == (
        RUNNER_ERROR,
        "image-to-text (RuntimeError)",
    )
    slow = failed("summarization", "m: timed out after 300s", ["timed out after 300s"])
    assert task_cause(slow).kind == TIMEOUT
    refused = failed("text-generation", "m: argument 'text' is empty", ["argument 'text' is empty"])
    assert task_cause(refused).kind == REFUSED
    missing = failed("depth-estimation", "m: package 'x' is not installed", ["package 'x' is not installed"])
    assert task_cause(missing).kind == NO_MODEL


def test_the_first_failed_task_is_the_cause_and_skipped_ones_are_not() -> None:
    gold = entry(
        {"task": "Image-to-Text", "arguments": ["a.jpg"]},
        {"task": "Summarization", "arguments": ["<node-0>"]},
    )
    tasks = [
        failed("image-to-text", "m: ValueError: bad", ["m: ValueError: bad"]),
        {**failed("summarization", "skipped because task 0 failed"), "id": 1, "status": "skipped"},
    ]
    outcome = RequestOutcome(gold, tasks)
    cause = cause_of(outcome)
    assert cause is not None and cause.group == "runner error: image-to-text (ValueError)"
    line = outcome_json(outcome)
    assert line["ran"] and not line["end_to_end"] and line["cause"]["kind"] == RUNNER_ERROR


def test_a_request_not_mapped_is_caused_by_its_first_problem_and_counted() -> None:
    lacking = RequestOutcome(entry({"task": "Audio Enhancement", "arguments": ["a.wav"]}))
    done = RequestOutcome(
        entry({"task": "Text-to-Speech", "arguments": ["hi"]}),
        [{"id": 0, "task": "text-to-speech", "status": "done", "model": "m", "error": None, "attempts": []}],
    )
    assert cause_of(done) is None
    cause = cause_of(lacking)
    assert cause is not None and (cause.kind, cause.subject) == (NO_SUCH_TASK, "Audio Enhancement")
    text = render_summary("title", [lacking, done])
    overall = next(line.split() for line in text.splitlines() if line.startswith("overall"))
    assert overall == ["overall", "2", "1", "1", "1", "0", "1"]
    assert "1  no such task type: Audio Enhancement" in text
    assert "tasks: 1 (1 done, 0 failed, 0 skipped" in text
