"""The task -> `InferenceClient` method table of the remote backend.

Every task type of `tools.registry` that the Inference API offers is here; the others (depth-estimation,
the ControlNet annotators and generators) are absent, so the remote backend cannot run them.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Final

from tools.backends.remote_media import MEDIA_TASKS
from tools.backends.remote_spec import RemoteTask
from tools.backends.remote_text import TEXT_TASKS
from tools.runners.base import Call, TaskOutput

REMOTE_TASKS: Final = MappingProxyType({**TEXT_TASKS, **MEDIA_TASKS})
"""Task name -> how it runs on the Inference API."""


def remote_task(task: str) -> RemoteTask:
    """Return how ``task`` runs on the Inference API.

    Raises:
        KeyError: naming the task, when the Inference API offers no such task.
    """
    try:
        return REMOTE_TASKS[task]
    except KeyError:
        raise KeyError(f"the Inference API offers no {task!r} task") from None


def provider_offers(provider: str, api_task: str) -> bool:
    """Tell whether ``provider`` offers ``api_task`` (any task for ``auto``: it depends on the model).

    Args:
        provider: an Inference Provider name, or ``auto``.
        api_task: the API's task name (`RemoteTask.api_task`).

    Returns:
        True when the provider's helpers in huggingface_hub include the task.
    """
    if provider == "auto":
        return True
    from huggingface_hub.inference._providers import PROVIDERS

    return api_task in PROVIDERS.get(provider, {})  # type: ignore[call-overload]


def invoke(client: Any, task: RemoteTask, model: str, kwargs: dict[str, Any]) -> Any:
    """Call the task's `InferenceClient` method (blocking: one HTTP request).

    Args:
        client: an ``InferenceClient``.
        task: the task's table entry.
        model: the hub id, or the endpoint URL.
        kwargs: what ``task.prepare`` returned.

    Returns:
        The method's answer.
    """
    return getattr(client, task.method)(model=model, **kwargs)


def finish(task: RemoteTask, call: Call, answer: Any) -> TaskOutput:
    """Turn the method's answer into the task's output (writing its files)."""
    return task.finish(call, answer)
