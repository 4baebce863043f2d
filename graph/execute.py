"""The execute stage: a `Send` fan-out of the plan's tasks, dependency-aware, with model fallback.

`dispatch` sends every unfinished task to its own `execute` branch in one step. A branch waits (on the
dependency board) only for the tasks its arguments use, so each task starts as soon as its own inputs exist.
Results merge through the state's by-id reducer; `join` closes the step and `dispatch` runs again until
every task has a result.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.messages import ToolCall
from langgraph.runtime import Runtime
from langgraph.types import Send

from graph.context import Context
from graph.resources import Resources, resources_of
from graph.state import Attempt, Outputs, Selection, State, Task, TaskResult, TaskRun
from graph.validate import REFERENCE
from tools.artifacts import InputError, Workspace
from tools.registry import TASKS, Modality
from tools.task_tool import make_tool

logger = logging.getLogger(__name__)

START_GRACE_S = 5.0
"""How long a branch waits for a sibling dependency's branch to start before deferring to the next step."""


def dispatch(state: State) -> list[Send] | Literal["respond"]:
    """Send every task without a result to an `execute` branch; go to `respond` once all have one.

    Args:
        state: the graph state.

    Returns:
        One `Send` per unfinished task, or ``"respond"``.
    """
    finished = {result.id: result for result in state.get("results", [])}
    pending = [task for task in state.get("tasks", []) if task.id not in finished]
    if not pending:
        return "respond"
    selections = {selection.id: selection for selection in state.get("selections", [])}
    step = uuid.uuid4().hex
    in_flight = [task.id for task in pending]
    return [
        Send(
            "execute",
            TaskRun(
                task=task,
                selection=selections.get(task.id),
                known=[finished[dep] for dep in task.dep if dep in finished],
                in_flight=in_flight,
                step=step,
                run_id=state.get("run_id", "run"),
            ),
        )
        for task in pending
    ]


async def execute(payload: TaskRun, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run one task once its dependencies are done; skip it if one of them failed.

    Args:
        payload: the task, its selection, known dependency results and the step's identity.
        runtime: carries the run's Context.

    Returns:
        ``{"results": [result]}``, or nothing when the task must wait for the next step.
    """
    resources = resources_of(runtime.context)
    board = resources.boards.for_step(payload["step"])
    task = payload["task"]
    board.start(task.id)
    result: TaskResult | None = None
    try:
        deps = await _dependencies(payload, board)
        if deps is not None:
            result = await _run_ready(
                task, payload["selection"], deps, payload["run_id"], resources, runtime.context
            )
    finally:
        board.publish(task.id, result)
        resources.boards.release(payload["step"], len(payload["in_flight"]))
    return {"results": [result]} if result is not None else {}


async def join(state: State) -> dict[str, Any]:
    """Close a fan-out step (the branches' results are already merged by the reducer)."""
    return {}


async def _dependencies(payload: TaskRun, board: Any) -> dict[int, TaskResult] | None:
    known = {result.id: result for result in payload["known"]}
    for dep in payload["task"].dep:
        if dep in known:
            continue
        found = await board.wait(dep, START_GRACE_S) if dep in payload["in_flight"] else None
        if found is None:
            logger.info("task %s defers: dependency %s is not running here", payload["task"].id, dep)
            return None
        known[dep] = found
    return known


async def _run_ready(
    task: Task,
    selection: Selection | None,
    deps: Mapping[int, TaskResult],
    run_id: str,
    resources: Resources,
    context: Context,
) -> TaskResult:
    blocked = [deps[dep] for dep in task.dep if deps[dep].status != "done"]
    if blocked:
        first = blocked[0]
        reason = f"skipped because task {first.id} ({first.task}) {first.status}: {first.error}"
        return TaskResult.not_run(task, "skipped", reason)
    args = resolve_args(task, deps)
    workspace = Workspace.for_run(context.workspace_dir, run_id, base=context.inputs_dir)
    return await run_with_fallback(task, args, selection, workspace, resources, context)


def resolve_args(task: Task, deps: Mapping[int, TaskResult]) -> dict[str, str]:
    """Replace ``<GENERATED>-N`` in the arguments with task N's output of the argument's modality.

    Args:
        task: the task (validated: every reference is to a dependency producing the right modality).
        deps: the finished dependencies by id.

    Returns:
        The arguments with references resolved (text is substituted in place; files are paths).
    """
    spec = TASKS[task.task]
    resolved = {}
    for name, value in task.args.items():
        modality = spec.args[name]

        def output_of(match: Any, modality: Modality = modality) -> str:
            outputs = deps[int(match.group(1))].outputs
            return getattr(outputs, modality.value) or ""

        resolved[name] = REFERENCE.sub(output_of, value)
    return resolved


async def run_with_fallback(
    task: Task,
    args: dict[str, str],
    selection: Selection | None,
    workspace: Workspace,
    resources: Resources,
    context: Context,
) -> TaskResult:
    """Run a task on its chosen model, then on the next candidates, each try bounded by the task timeout.

    Args:
        task: the task.
        args: resolved arguments.
        selection: the chosen model and the candidates after it.
        workspace: where files go.
        resources: catalog and backend.
        context: limits (attempts, timeout).

    Returns:
        A ``done`` result, or a ``failed`` one listing every attempt's error. Never raises.
    """
    started = time.time()
    attempts: list[Attempt] = []
    models = (selection.candidates if selection else [])[: max(1, context.max_attempts)]
    tool = make_tool(
        TASKS[task.task], resources.backend, resources.catalog, workspace, f"task{task.id}-{task.task}"
    )
    for model_id in models:  # an id missing from the catalog fails in the tool (NoModelError), like any model
        clock = time.perf_counter()
        tool_call = ToolCall(
            name=tool.name, args={**args, "model": model_id}, id=f"task-{task.id}", type="tool_call"
        )
        try:
            message = await asyncio.wait_for(tool.ainvoke(tool_call), timeout=context.task_timeout_s)
            output = message.artifact
        except TimeoutError:
            error = f"timed out after {context.task_timeout_s:g}s"
        except InputError as bad_input:  # the same input fails on every model: no fallback
            attempts.append(
                Attempt(model=model_id, error=str(bad_input), seconds=time.perf_counter() - clock)
            )
            break
        except Exception as failure:  # noqa: BLE001 - tools never raise into the graph
            logger.warning("task %s failed on %s: %s", task.id, model_id, failure, exc_info=True)
            error = f"{type(failure).__name__}: {failure}"
        else:
            attempts.append(Attempt(model=model_id, seconds=time.perf_counter() - clock))
            return TaskResult(
                id=task.id,
                task=task.task,
                status="done",
                model=model_id,
                args=args,
                outputs=Outputs(**dataclasses.asdict(output)),
                attempts=attempts,
                started_at=started,
                ended_at=time.time(),
            )
        attempts.append(Attempt(model=model_id, error=error, seconds=time.perf_counter() - clock))
    error = "; ".join(f"{a.model}: {a.error}" for a in attempts) or "no model was selected"
    return TaskResult(
        id=task.id,
        task=task.task,
        status="failed",
        args=args,
        error=error,
        attempts=attempts,
        model=attempts[-1].model if attempts else None,
        started_at=started,
        ended_at=time.time(),
    )
