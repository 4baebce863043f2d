"""A task's arguments made ready to run: references replaced by outputs, URLs fetched, files confined."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping

from graph.context import Context
from graph.state import Task, TaskResult
from graph.validate import REFERENCE
from tools.artifacts import Workspace
from tools.registry import TASKS, Modality
from tools.url_inputs import UrlPolicy, fetch_url, is_url


async def resolve_args(
    task: Task, deps: Mapping[int, TaskResult], workspace: Workspace, settings: Context
) -> dict[str, str]:
    """Return ``task``'s arguments ready for its tool.

    ``<GENERATED>-N`` becomes task N's output of the argument's modality (text in place, files as paths);
    an http(s) URL of a file argument is fetched into the run's workspace; every other file argument must
    be a file the run may read (see `Workspace.resolve`).

    Args:
        task: the task (validated: each reference is to a dependency producing the right modality).
        deps: its finished dependencies by id.
        workspace: the run's workspace.
        settings: the URL limits.

    Returns:
        Argument name -> value.

    Raises:
        InputError: naming a file that is missing, outside what the run may read, or a URL that fails.
    """
    spec = TASKS[task["task"]]
    resolved = {}
    for name, value in task["args"].items():
        modality = spec.args[name]
        filled = REFERENCE.sub(_filler(deps, modality), value)
        if modality is not Modality.TEXT and not REFERENCE.search(value):
            filled = await _input_file(filled.strip(), modality, workspace, task, name, settings)
        resolved[name] = filled
    return resolved


def _filler(deps: Mapping[int, TaskResult], modality: Modality) -> Callable[[re.Match[str]], str]:
    def output_of(match: re.Match[str]) -> str:
        outputs = deps[int(match.group(1))]["outputs"]
        return str(outputs.get(modality.value) or "")

    return output_of


async def _input_file(
    value: str, modality: Modality, workspace: Workspace, task: Task, name: str, settings: Context
) -> str:
    if is_url(value):
        policy = UrlPolicy.of(settings.url_max_mb, settings.url_timeout_s, settings.url_allow_networks)
        path = await fetch_url(value, modality, workspace, f"task{task['id']}-{name}", policy)
        return str(path)
    return str(await asyncio.to_thread(workspace.resolve, value))
