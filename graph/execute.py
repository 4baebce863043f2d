"""The execute stage: the plan's tasks run as durable LangGraph tasks, each as soon as its own inputs exist.

`execute` calls one `run_task` (as a LangGraph ``@task``) per unfinished task, in plan order, so the calls are
the same on every run of the node. Each task awaits only its own dependencies, then runs on its model with
fallback. LangGraph saves each finished task's result in the checkpoint as it completes: when a crashed or
killed run resumes, the node runs again and every task that had finished returns its saved result at once,
so nothing is run twice and nothing waits on state that died with the old process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langgraph.func import task as durable_task
from langgraph.runtime import Runtime

from graph.context import Context
from graph.inputs import resolve_args
from graph.services import Resources, Services
from graph.state import Attempt, Selection, State, Task, TaskResult, make_result, not_run
from graph.tool_call import call_tool, tool_for
from tools.artifacts import InputError, Workspace


@dataclass(frozen=True)
class Step:
    """What the tasks of one execute step share: services, settings, and each other's results.

    Attributes:
        resources: the services the run uses.
        settings: the run's settings.
        workspace: the run's files: where they go, and what the run may read.
        finished: results that exist already (e.g. tasks that had no model).
        running: task id -> the awaitable result of a task called in this step.
    """

    resources: Resources
    settings: Context
    workspace: Workspace
    finished: Mapping[int, TaskResult]
    running: dict[int, Awaitable[TaskResult]] = field(default_factory=dict)

    def __repr__(self) -> str:  # shown in traces as the task's input
        run = self.workspace.root.name
        return f"Step(run={run!r}, finished={sorted(self.finished)}, running={sorted(self.running)})"

    async def dependencies(self, task: Task) -> dict[int, TaskResult]:
        """Wait for and return the results of ``task``'s dependencies."""
        found = {}
        for dep in task["dep"]:
            found[dep] = self.finished[dep] if dep in self.finished else await self.running[dep]
        return found


async def execute(state: State, runtime: Runtime[Context], services: Services) -> dict[str, Any]:
    """Run every task of the plan that has no result yet; each starts once its dependencies are done.

    Args:
        state: the graph state (``tasks``, ``selections``, ``results``).
        runtime: carries the run's Context.
        services: where the run's services come from.

    Returns:
        ``{"results": [...]}`` with one result per task that ran (or was skipped).
    """
    settings = services.settings(runtime.context)
    workspace = Workspace.for_run(
        settings.workspace_dir,
        state.get("run_id", "run"),
        base=settings.inputs_dir,
        readable_runs=state.get("runs", []),
        files_url=settings.files_url,
    )
    step = Step(
        resources=await services.resources(settings),
        settings=settings,
        workspace=workspace,
        finished={result["id"]: result for result in state.get("results", [])},
    )
    selections = {selection["id"]: selection for selection in state.get("selections", [])}
    for task in state.get("tasks", []):  # plan order: the same calls, in the same order, on a resume
        if task["id"] not in step.finished:
            step.running[task["id"]] = durable_run_task(task, selections.get(task["id"]), step)
    results = await asyncio.gather(*step.running.values())
    return {"results": list(results)}


async def run_task(task: Task, selection: Selection | None, step: Step) -> TaskResult:
    """Run one task once its dependencies are done; skip it if one of them did not succeed.

    Args:
        task: the task.
        selection: its chosen model and the candidates after it.
        step: the execute step it belongs to.

    Returns:
        Its result (never raises: errors become failed results).
    """
    deps = await step.dependencies(task)
    blocked = [deps[dep] for dep in task["dep"] if deps[dep]["status"] != "done"]
    if blocked:
        first = blocked[0]
        reason = f"skipped because task {first['id']} ({first['task']}) {first['status']}: {first['error']}"
        return not_run(task, "skipped", reason)
    started = time.time()
    workspace = step.workspace
    try:
        args = await resolve_args(task, deps, workspace, step.settings)
    except InputError as error:
        attempt = Attempt(
            model=(selection["model"] if selection else None) or "", error=str(error), seconds=0.0
        )
        return make_result(
            task, "failed", error=str(error), attempts=[attempt], started_at=started, ended_at=time.time()
        )
    return await run_with_fallback(task, args, selection, workspace, step.resources, step.settings)


durable_run_task = durable_task(run_task)
"""`run_task` as a LangGraph task, named ``run_task``: its result is saved in the checkpoint when it ends.

(The plain function keeps its module name, so that LangGraph builds its runnable once, not per call.)
"""


async def run_with_fallback(
    task: Task,
    args: dict[str, str],
    selection: Selection | None,
    workspace: Workspace,
    resources: Resources,
    settings: Context,
) -> TaskResult:
    """Run a task on its chosen model, then on the next candidates, each try bounded by the task timeout.

    Args:
        task: the task.
        args: resolved arguments.
        selection: the chosen model and the candidates after it.
        workspace: where files go.
        resources: catalog and backend.
        settings: limits (attempts, timeout).

    Returns:
        A ``done`` result, or a ``failed`` one listing every attempt's error. Never raises.
    """
    started = time.time()
    attempts: list[Attempt] = []
    models = (selection["candidates"] if selection else [])[: max(1, settings.max_attempts)]
    tool = tool_for(task, workspace, resources)
    for model_id in models:
        outcome = await call_tool(task, tool, args, model_id, settings.task_timeout_s)
        attempts.append(outcome.attempt)
        if outcome.outputs is not None:
            return make_result(
                task,
                "done",
                model=model_id,
                args=args,
                outputs=outcome.outputs,
                attempts=attempts,
                started_at=started,
                ended_at=time.time(),
            )
        if outcome.final:  # the same input fails on every model: no fallback
            break
    error = "; ".join(f"{a['model']}: {a['error']}" for a in attempts) or "no model was selected"
    return make_result(
        task,
        "failed",
        model=attempts[-1]["model"] if attempts else None,
        args=args,
        error=error,
        attempts=attempts,
        started_at=started,
        ended_at=time.time(),
    )
