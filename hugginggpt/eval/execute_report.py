"""What running the gold plans showed: one cause per request that did not run end to end, a table, a file.

A request's cause is its first problem: the first node that could not be mapped, else the first task that
failed (the tasks after it are skipped for its sake). Causes group by kind and subject:
``no such task type: Audio Enhancement``, ``no model available offline: text-to-image``,
``runner error: image-to-text (RuntimeError)``, ``bad argument: tabular-classification``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hugginggpt.eval.execute import RequestOutcome
from hugginggpt.eval.gold_plans import BAD_ARGUMENT
from hugginggpt.eval.taskbench import SHAPES

NO_MODEL: Final = "no model available offline"
RUNNER_ERROR: Final = "runner error"
TIMEOUT: Final = "timeout"
REFUSED: Final = "bad argument"
"""Kinds of task failures (an input the runner refused counts with the mapping's bad arguments)."""

_NO_MODEL_SIGNS: Final = (
    "no model available",
    "is not installed",
    "no configured backend can run",
    "is not in the catalog",
    "no runner ",
)
"""How the graph says a task had no model it could run (select's message, the explained model errors)."""
_EXCEPTION: Final = re.compile(r"^(?:[^:]+: )?([A-Z]\w*(?:Error|Exception|Interrupt))\b: ")
"""An attempt error the tool call wrote as ``model: TypeName: message``: the runner raised unexpectedly."""

COLUMNS: Final = ("", "n", "mapped", "ran", "end to end", "failed", "not mapped")


@dataclass(frozen=True)
class Cause:
    """Why one request did not run end to end: kind, subject (a task type or tool), and the detail."""

    kind: str
    subject: str
    detail: str

    @property
    def group(self) -> str:
        """Return the label causes are counted under."""
        return f"{self.kind}: {self.subject}"


def cause_of(outcome: RequestOutcome) -> Cause | None:
    """Return why ``outcome`` did not run end to end (None when it did)."""
    if outcome.end_to_end:
        return None
    problems = outcome.entry.mapping.problems
    if problems:
        first = problems[0]
        subject = first.tool if first.kind != BAD_ARGUMENT else first.detail.split(":", 1)[0]
        return Cause(first.kind, subject if first.node is not None else "plan", first.detail)
    if outcome.plan_error:
        return Cause(RUNNER_ERROR, "graph", outcome.plan_error)
    failed = [task for task in outcome.tasks if task["status"] == "failed"]
    if not failed:
        return Cause(RUNNER_ERROR, "graph", "no task failed, yet not every task is done")
    return task_cause(failed[0])


def task_cause(task: Mapping[str, Any]) -> Cause:
    """Classify one failed task by what its first attempt (or its result) says."""
    attempts = [error for error in task.get("attempts", []) if error]
    text = attempts[0] if attempts else str(task.get("error") or "")
    name = str(task["task"])
    if any(sign in text for sign in _NO_MODEL_SIGNS):
        return Cause(NO_MODEL, name, text)
    if "timed out after" in text:
        return Cause(TIMEOUT, name, text)
    raised = _EXCEPTION.match(text)
    if raised:
        return Cause(RUNNER_ERROR, f"{name} ({raised.group(1)})", text)
    return Cause(REFUSED, name, text)


def outcome_json(outcome: RequestOutcome) -> dict[str, Any]:
    """Return one results-file line: the mapping, each task's status and error, and the cause."""
    entry = outcome.entry
    cause = cause_of(outcome)
    return {
        "id": entry.id,
        "shape": entry.shape,
        "mapped": entry.mapping.mapped,
        "problems": [problem.as_json() for problem in entry.mapping.problems],
        "notes": list(entry.mapping.notes),
        "plan": entry.mapping.plan,
        "ran": outcome.ran,
        "end_to_end": outcome.end_to_end,
        "tasks": outcome.tasks,
        "plan_error": outcome.plan_error,
        "cause": None
        if cause is None
        else {"kind": cause.kind, "subject": cause.subject, "detail": cause.detail},
        "seconds": outcome.seconds,
    }


def table_rows(outcomes: Sequence[RequestOutcome]) -> list[list[str]]:
    """Return the table's cells, header first: overall, then each shape with requests."""
    rows = [list(COLUMNS)]
    groups = {"overall": list(outcomes)}
    groups.update({shape: [o for o in outcomes if o.entry.shape == shape] for shape in SHAPES})
    other = [o for o in outcomes if o.entry.shape not in SHAPES]
    if other:
        groups["other"] = other
    for name, members in groups.items():
        mapped = sum(o.entry.mapping.mapped for o in members)
        ran = sum(o.ran for o in members)
        done = sum(o.end_to_end for o in members)
        counts = (len(members), mapped, ran, done, ran - done, len(members) - mapped)
        rows.append([name, *(str(count) for count in counts)])
    return rows


def render_summary(title: str, outcomes: Sequence[RequestOutcome], top: int = 12) -> str:
    """Return the table, the task counts and the most frequent causes, as aligned text."""
    rows = table_rows(outcomes)
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    lines = [title]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
    statuses = Counter(task["status"] for outcome in outcomes for task in outcome.tasks)
    lines.append(
        f"tasks: {sum(statuses.values())} ({statuses['done']} done, {statuses['failed']} failed, "
        f"{statuses['skipped']} skipped after a failed dependency)"
    )
    lines.extend(_reason_lines(outcomes, top))
    return "\n".join(lines) + "\n"


def _reason_lines(outcomes: Sequence[RequestOutcome], top: int) -> list[str]:
    causes = [cause for cause in map(cause_of, outcomes) if cause is not None]
    if not causes:
        return ["every request ran end to end"]
    kinds = Counter(cause.kind for cause in causes)
    lines = [
        "why the others did not (one cause per request, by kind): "
        + ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
    ]
    groups = Counter(cause.group for cause in causes)
    example = {cause.group: cause.detail for cause in reversed(causes)}
    lines.append(f"top causes ({min(top, len(groups))} of {len(groups)}):")
    for group, count in groups.most_common(top):
        lines.append(f"  {count:4d}  {group}  e.g. {_short(example[group])}")
    return lines


def _short(text: str, limit: int = 110) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
