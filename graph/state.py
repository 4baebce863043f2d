"""The graph's state: the input schema, the validated plan, model selections, task results, the answer.

Every record is a plain `TypedDict` of JSON values, so a checkpoint (SQLite, Postgres, LangGraph Server)
stores and reads it without registering any class, and HTTP clients get it as it is.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict


class Task(TypedDict):
    """One validated step of the plan."""

    id: int
    """Unique id of the task within the plan."""
    task: str
    """The task type, a name from the task registry."""
    dep: list[int]
    """Ids of the tasks whose outputs this task uses (empty when none)."""
    args: dict[str, str]
    """Arguments by name; a value `<GENERATED>-N` stands for the output of task N."""


class Selection(TypedDict):
    """The model chosen for one task, and why."""

    id: int
    task: str
    model: str | None
    """The chosen model id; None when no model is available."""
    reason: str
    """Why this model was chosen (the selector's words or the rule)."""
    candidates: list[str]
    """Candidate model ids, in the order they are tried (chosen first)."""
    by_llm: bool
    """Whether the controller LLM made the choice."""


class Attempt(TypedDict):
    """One try of a task on one model."""

    model: str
    error: str | None
    seconds: float


class Outputs(TypedDict, total=False):
    """What a task produced: text, file paths, structured details."""

    text: str | None
    image: str | None
    audio: str | None
    video: str | None
    data: dict[str, Any]


TaskStatus = Literal["done", "failed", "skipped"]


class TaskResult(TypedDict):
    """The outcome of one task: outputs or the reason there are none."""

    id: int
    task: str
    status: TaskStatus
    model: str | None
    args: dict[str, str]
    """The arguments after resolving references."""
    outputs: Outputs
    error: str | None
    attempts: list[Attempt]
    started_at: float | None
    """Wall-clock start (epoch seconds)."""
    ended_at: float | None
    """Wall-clock end (epoch seconds)."""


def make_selection(
    task: Task, model: str | None, reason: str, candidates: Sequence[str] = (), by_llm: bool = False
) -> Selection:
    """Return a selection record for ``task``."""
    return Selection(
        id=task["id"],
        task=task["task"],
        model=model,
        reason=reason,
        candidates=list(candidates),
        by_llm=by_llm,
    )


def make_result(
    task: Task,
    status: TaskStatus,
    *,
    model: str | None = None,
    args: dict[str, str] | None = None,
    outputs: Outputs | None = None,
    error: str | None = None,
    attempts: Sequence[Attempt] = (),
    started_at: float | None = None,
    ended_at: float | None = None,
) -> TaskResult:
    """Return a result record for ``task`` (arguments default to the task's own)."""
    return TaskResult(
        id=task["id"],
        task=task["task"],
        status=status,
        model=model,
        args=dict(task["args"] if args is None else args),
        outputs=outputs or Outputs(),
        error=error,
        attempts=list(attempts),
        started_at=started_at,
        ended_at=ended_at,
    )


def not_run(task: Task, status: TaskStatus, reason: str) -> TaskResult:
    """Return the result of a task that never ran (no model, or a dependency failed), saying why."""
    now = time.time()
    return make_result(task, status, error=reason, started_at=now, ended_at=now)


def output_files(outputs: Outputs) -> list[str]:
    """Return the paths of the files a task produced (image, audio, video)."""
    return [path for path in (outputs.get("image"), outputs.get("audio"), outputs.get("video")) if path]


def merge_by_id(left: list[Any] | None, right: list[Any] | None) -> list[Any]:
    """Merge two lists of records keyed by ``id``: the right one wins for the same id, order is by id.

    Args:
        left: the current records.
        right: the update.

    Returns:
        The merged records sorted by id.
    """
    merged = {item["id"]: item for item in left or []}
    merged.update({item["id"]: item for item in right or []})
    return [merged[key] for key in sorted(merged)]


def add_unique(left: list[str] | None, right: list[str] | None) -> list[str]:
    """Append the new strings of ``right`` to ``left``, each once, keeping the order."""
    merged = list(left or [])
    merged.extend(item for item in right or [] if item not in merged)
    return merged


class InputState(TypedDict, total=False):
    """What a caller sends: the chat, and optionally a ready plan that skips the planning call."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The chat history; the last human message is the request."""
    plan: list[dict[str, Any]] | None
    """A given plan (`[{"id", "task", "dep", "args"}]`): validated, then executed without the planner."""


class State(InputState, total=False):
    """The full state: every stage's output stays readable by Studio and HTTP clients."""

    run_id: str
    """Identifies this request's run; names its workspace folder."""
    runs: Annotated[list[str], add_unique]
    """The run ids of this thread, oldest first: a plan may read the files of any of them."""
    tasks: list[Task]
    """The validated task graph."""
    plan_attempts: int
    """How many planning calls this request took."""
    plan_error: str | None
    """Why no valid plan could be made, or why it was rejected (None when there is a plan)."""
    unavailable: list[str]
    """Task types the request names outright that no model here can run (the answer says so)."""
    selections: Annotated[list[Selection], merge_by_id]
    """Task id -> chosen model, merged by task id."""
    results: Annotated[list[TaskResult], merge_by_id]
    """Task id -> result, merged by task id."""
    answer: str
    """The final answer shown to the user."""


class OutputState(TypedDict, total=False):
    """What a caller gets back."""

    messages: list[AnyMessage]
    run_id: str
    tasks: list[Task]
    plan_attempts: int
    plan_error: str | None
    unavailable: list[str]
    selections: list[Selection]
    results: list[TaskResult]
    answer: str
