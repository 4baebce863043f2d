"""The graph's state: the input schema, the validated plan, model selections, task results, the answer."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import BaseModel, Field
from typing_extensions import TypedDict


class Task(BaseModel):
    """One validated step of the plan."""

    id: int = Field(description="Unique id of the task within the plan.")
    task: str = Field(description="The task type, a name from the task registry.")
    dep: list[int] = Field(default_factory=list, description="Ids of the tasks whose outputs this task uses.")
    args: dict[str, str] = Field(
        default_factory=dict,
        description="Arguments by name; a value `<GENERATED>-N` stands for the output of task N.",
    )


class Selection(BaseModel):
    """The model chosen for one task, and why."""

    id: int = Field(description="The task id.")
    task: str = Field(description="The task type.")
    model: str | None = Field(
        default=None, description="The chosen model id; None when no model is available."
    )
    reason: str = Field(
        default="", description="Why this model was chosen (the selector's words or the rule)."
    )
    candidates: list[str] = Field(
        default_factory=list, description="Candidate model ids, in the order they are tried (chosen first)."
    )
    by_llm: bool = Field(default=False, description="Whether the controller LLM made the choice.")


class Attempt(BaseModel):
    """One try of a task on one model."""

    model: str
    error: str | None = None
    seconds: float = 0.0


class Outputs(BaseModel):
    """What a task produced: text, file paths, structured details."""

    text: str | None = None
    image: str | None = None
    audio: str | None = None
    video: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def files(self) -> list[str]:
        """Return the paths of the files produced."""
        return [path for path in (self.image, self.audio, self.video) if path]


TaskStatus = Literal["done", "failed", "skipped"]


class TaskResult(BaseModel):
    """The outcome of one task: outputs or the reason there are none."""

    id: int
    task: str
    status: TaskStatus
    model: str | None = None
    args: dict[str, str] = Field(
        default_factory=dict, description="The arguments after resolving references."
    )
    outputs: Outputs = Field(default_factory=Outputs)
    error: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    started_at: float | None = Field(default=None, description="Wall-clock start (epoch seconds).")
    ended_at: float | None = Field(default=None, description="Wall-clock end (epoch seconds).")

    @classmethod
    def not_run(cls, task: Task, status: TaskStatus, reason: str) -> TaskResult:
        """Return the result of a task that never ran (no model, or a dependency failed), saying why."""
        now = time.time()
        return cls(
            id=task.id,
            task=task.task,
            status=status,
            args=task.args,
            error=reason,
            started_at=now,
            ended_at=now,
        )


def merge_by_id(left: list[Any] | None, right: list[Any] | None) -> list[Any]:
    """Merge two lists of records keyed by ``id``: the right one wins for the same id, order is by id.

    Concurrent branches each add their own task's record, so no branch overwrites another's.

    Args:
        left: the current records.
        right: the update.

    Returns:
        The merged records sorted by id.
    """
    merged = {item.id: item for item in left or []}
    merged.update({item.id: item for item in right or []})
    return [merged[key] for key in sorted(merged)]


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
    tasks: list[Task]
    """The validated task graph."""
    plan_attempts: int
    """How many planning calls this request took."""
    plan_error: str | None
    """Why no valid plan could be made (None when planning succeeded)."""
    selections: Annotated[list[Selection], merge_by_id]
    """Task id -> chosen model, merged by task id."""
    results: Annotated[list[TaskResult], merge_by_id]
    """Task id -> result, merged by task id so concurrent branches never clobber each other."""
    answer: str
    """The final answer shown to the user."""


class OutputState(TypedDict, total=False):
    """What a caller gets back."""

    messages: list[AnyMessage]
    run_id: str
    tasks: list[Task]
    plan_attempts: int
    plan_error: str | None
    selections: list[Selection]
    results: list[TaskResult]
    answer: str


class TaskRun(TypedDict):
    """The payload `Send` gives one `execute` branch."""

    task: Task
    selection: Selection | None
    known: list[TaskResult]
    """Results of this task's dependencies that finished in earlier steps."""
    in_flight: list[int]
    """Ids of every task sent in the same step (those a branch may wait for)."""
    step: str
    """Identifies the step, for the dependency board."""
    run_id: str
