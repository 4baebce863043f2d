"""One attempt of a task on one model, through the task type's LangChain tool (a traced tool run)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import cast

from langchain_core.messages import ToolCall

from graph.services import Resources
from graph.state import Attempt, Outputs, Task
from tools.artifacts import InputError, Workspace
from tools.backends.local import RunnerNotFoundError
from tools.backends.router import NotRunnableError
from tools.packaged import PackageMissingError
from tools.registry import TASKS
from tools.runners.base import ModelUnavailableError
from tools.task_tool import NoModelError, TaskTool, make_tool

logger = logging.getLogger(__name__)

EXPLAINED = (ModelUnavailableError, PackageMissingError, NoModelError, NotRunnableError, RunnerNotFoundError)
"""Failures whose message is the whole story (which model, why, what to do): logged without a traceback."""


@dataclass(frozen=True)
class Outcome:
    """How one attempt went.

    Attributes:
        outputs: what the model produced, or None when the attempt failed.
        attempt: the attempt's record (model, error, seconds).
        final: True when the failure is the input's, so that no other model would do better.
    """

    outputs: Outputs | None
    attempt: Attempt
    final: bool = False


def tool_for(task: Task, workspace: Workspace, resources: Resources) -> TaskTool:
    """Return the tool that runs ``task`` (built once per task; each attempt names its model)."""
    return make_tool(
        TASKS[task["task"]],
        resources.backend,
        resources.catalog,
        workspace,
        f"task{task['id']}-{task['task']}",
    )


async def call_tool(
    task: Task, tool: TaskTool, args: dict[str, str], model_id: str, timeout_s: float
) -> Outcome:
    """Run ``task`` with resolved ``args`` on ``model_id`` through ``tool``, within ``timeout_s``.

    Args:
        task: the task.
        tool: its tool (see `tool_for`).
        args: its resolved arguments.
        model_id: the catalog id of the model (an unknown id fails like any model).
        timeout_s: the time limit.

    Returns:
        The outcome (never raises: a failure is an outcome too).
    """
    call = ToolCall(
        name=tool.name, args={**args, "model": model_id}, id=f"task-{task['id']}", type="tool_call"
    )
    clock = time.perf_counter()

    def failed(error: str, final: bool = False) -> Outcome:
        return Outcome(None, Attempt(model=model_id, error=error, seconds=time.perf_counter() - clock), final)

    try:
        message = await asyncio.wait_for(tool.ainvoke(call), timeout=timeout_s)
    except TimeoutError:
        return failed(f"timed out after {timeout_s:g}s")
    except InputError as bad_input:
        return failed(str(bad_input), final=True)
    except EXPLAINED as failure:  # its message says what and why: no traceback, no type name
        logger.warning("task %s failed on %s: %s", task["id"], model_id, failure)
        return failed(str(failure))
    except Exception as failure:  # noqa: BLE001 - tools never raise into the graph
        logger.warning("task %s failed on %s: %s", task["id"], model_id, failure, exc_info=True)
        return failed(f"{type(failure).__name__}: {failure}")
    output = message.artifact
    outputs = cast(Outputs, {k: v for k, v in dataclasses.asdict(output).items() if v not in (None, {})})
    return Outcome(outputs, Attempt(model=model_id, error=None, seconds=time.perf_counter() - clock))
