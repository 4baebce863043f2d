"""The services a run uses (controller LLM, model catalog, local backend), built once per configuration."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, fields
from typing import Any

from langchain_core.language_models import BaseChatModel

from graph.board import Boards
from graph.context import Context, catalog_paths
from tools.backends.local import LocalBackend
from tools.models import Catalog
from tools.runners.base import LoadOptions

logger = logging.getLogger(__name__)


@dataclass
class Resources:
    """Long-lived services shared by the runs of one configuration.

    Attributes:
        llm: the controller chat model.
        catalog: the model catalog.
        backend: the local backend (model cache and worker pool).
        boards: dependency boards of the fan-out steps in flight.
    """

    llm: BaseChatModel
    catalog: Catalog
    backend: LocalBackend
    boards: Boards = field(default_factory=Boards)

    @classmethod
    def build(cls, context: Context) -> Resources:
        """Build the services a context describes (loads no model; the LLM loads on first call).

        Args:
            context: the settings.

        Returns:
            The services.
        """
        from graph.llm import load_chat_model
        from tools.runners import default_runners

        catalog = Catalog.from_files(catalog_paths(context), hub_online=context.hub_online)
        backend = LocalBackend(
            default_runners(), load_options(context.device), max_workers=context.max_parallel_tasks
        )
        return cls(llm=load_chat_model(context.controller), catalog=catalog, backend=backend)


def load_options(device: str) -> LoadOptions:
    """Resolve ``auto`` to cuda (fp16) when a GPU is present, else cpu (fp32).

    Args:
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.

    Returns:
        The load options.
    """
    if device == "auto":
        try:
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        except ImportError:
            device = "cpu"
    return LoadOptions(device=device, dtype="float16" if device.startswith("cuda") else "float32")


_CONTEXT_FIELDS = tuple(f.name for f in fields(Context) if f.name != "resources")


@functools.lru_cache(maxsize=4)
def _shared(key: tuple[Any, ...]) -> Resources:
    values: dict[str, Any] = {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in zip(_CONTEXT_FIELDS, key, strict=True)
    }
    return Resources.build(Context(**values))


def resources_of(context: Context) -> Resources:
    """Return the context's injected services, or the process-wide ones for its settings.

    A server (LangGraph Studio, LangServe) passes settings only; this keeps its models loaded across runs.

    Args:
        context: the run's context.

    Returns:
        The services.
    """
    if context.resources is not None:
        return context.resources
    return _shared(context.key())
