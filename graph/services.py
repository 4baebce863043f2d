"""The services runs share (controller LLM, model catalog, local backend), built once per service setting.

Only the settings in `graph.context.SERVICE_FIELDS` choose the services; per-run settings (top_k, timeouts,
token budgets) never rebuild them, so a model loads once however many runs, threads and settings use it.
Building happens in a worker thread: it reads catalogs and imports torch, which must not block an event loop.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel

from graph.context import SERVICE_FIELDS, ConfigError, Context, catalog_paths
from tools.backends.local import LocalBackend
from tools.backends.router import INFERENCE_MODES, Backends
from tools.models import Catalog
from tools.registry import TASKS
from tools.runners.base import LoadOptions, Runner

logger = logging.getLogger(__name__)

RUNNABLE_TTL_S = 30.0
"""How long the set of task types with a runnable model is reused before it is looked up again."""


@dataclass
class Resources:
    """Long-lived services shared by the runs of one service configuration.

    Attributes:
        llm: the controller chat model.
        catalog: the model catalog.
        backend: the configured backends (local and/or remote), which route each card to one.
    """

    llm: BaseChatModel
    catalog: Catalog
    backend: Backends
    structured: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    """The controller's structured-output runnables by schema (see `graph.structured.ask`)."""
    _runnable: tuple[float, tuple[str, ...]] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(cls, context: Context) -> Resources:
        """Build the services a context describes (blocking: reads files; loads no model yet).

        Raises:
            ConfigError: for an unknown controller, catalog or runner provider.
        """
        from graph.llm import load_chat_model
        from tools.runners import default_runners

        try:
            llm = load_chat_model(context.controller)
            catalog = Catalog.from_files(catalog_paths(context), hub_online=context.hub_online)
        except (ValueError, ImportError, OSError) as error:  # CatalogError is a ValueError
            raise ConfigError(str(error)) from error
        if context.inference_mode not in INFERENCE_MODES:
            raise ConfigError(
                f"unknown inference_mode {context.inference_mode!r}; use one of {', '.join(INFERENCE_MODES)}"
            )
        local = None
        if context.inference_mode in ("local", "hybrid"):
            runners = {**default_runners(), **extra_runners(context.runners)}
            local = LocalBackend(
                runners,
                load_options(context.device),
                max_workers=context.max_parallel_tasks,
                max_batch_size=context.max_batch_size,
                batch_wait_s=context.batch_wait_ms / 1000,
                memory_budget_mb=context.model_memory_mb,
            )
        remote = remote_backend(context) if context.inference_mode in ("remote", "hybrid") else None
        return cls(llm=llm, catalog=catalog, backend=Backends(catalog, local, remote))

    def close(self) -> None:
        """Stop the backends' workers and drop their models."""
        self.backend.close()

    def known_planner_tasks(self) -> tuple[str, ...] | None:
        """Return `planner_tasks` when it can answer without reading the disk, else None."""
        if self._runnable is None or time.monotonic() - self._runnable[0] > RUNNABLE_TTL_S:
            return None
        return self._runnable[1]

    def planner_tasks(self) -> tuple[str, ...]:
        """Return the task types the planner is offered: those with a model that can run now.

        Computed once per `RUNNABLE_TTL_S` (it reads the disk: blocking), so a model fetched meanwhile is
        offered soon after.
        """
        known = self.known_planner_tasks()
        if known is not None:
            return known
        found = self.backend.runnable_tasks()
        self._runnable = (time.monotonic(), tuple(name for name in TASKS if name in found))
        return self._runnable[1]


def remote_backend(context: Context) -> Any:
    """Return the remote backend the context describes (token from ``HF_TOKEN``)."""
    from tools.backends.remote import RemoteBackend, RemoteSettings

    settings = RemoteSettings(
        token=os.environ.get("HF_TOKEN") or None,
        provider=context.inference_provider or "hf-inference",
        endpoint_url=context.inference_endpoint or None,
        timeout_s=context.remote_timeout_s,
        max_workers=context.max_parallel_tasks,
    )
    return RemoteBackend(settings)


def extra_runners(providers: list[str]) -> dict[str, Runner]:
    """Return the runners of ``module:function`` providers (each returns a mapping of name -> Runner).

    Raises:
        ConfigError: naming a provider that cannot be imported or does not return runners.
    """
    found: dict[str, Runner] = {}
    for provider in providers:
        module_name, _, attribute = provider.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attribute)
            runners = factory()
        except (ImportError, AttributeError, TypeError) as error:
            raise ConfigError(f"runner provider {provider!r}: {error}") from error
        if not isinstance(runners, Mapping) or not all(isinstance(item, Runner) for item in runners.values()):
            raise ConfigError(f"runner provider {provider!r} must return a mapping of name -> Runner")
        found.update(runners)
    return found


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


def service_key(context: Context) -> tuple[Any, ...]:
    """Return the settings of ``context`` that choose its services."""
    return tuple(
        tuple(value) if isinstance(value, list) else value
        for value in (getattr(context, name) for name in SERVICE_FIELDS)
    )


class Services:
    """Builds the `Resources` of each service configuration once, and closes them all on shutdown.

    Args:
        build: how to build them (default `Resources.build`; tests pass fakes).
        defaults: the settings of runs that pass none (default: the configured ones).
    """

    def __init__(
        self, build: Callable[[Context], Resources] = Resources.build, defaults: Context | None = None
    ) -> None:
        self._build = build
        self._defaults = defaults
        self._built: dict[tuple[Any, ...], Resources] = {}
        self._lock = threading.Lock()

    @classmethod
    def fixed(cls, resources: Resources, defaults: Context | None = None) -> Services:
        """Return services that always are ``resources``, whatever the settings (for tests and embedding)."""
        return cls(build=lambda context: resources, defaults=defaults)

    def settings(self, context: Context | None) -> Context:
        """Return a run's settings: its own, or the defaults when it passes none."""
        if context is not None:
            return context
        return self._defaults if self._defaults is not None else Context()

    async def resources(self, context: Context) -> Resources:
        """Return the services for ``context``, building them in a worker thread the first time."""
        built = self._built.get(service_key(context))
        if built is not None:
            return built
        return await asyncio.to_thread(self.resources_now, context)

    def resources_now(self, context: Context) -> Resources:
        """Return the services for ``context``, building them in this thread if needed (blocking)."""
        key = service_key(context)
        with self._lock:
            if key not in self._built:
                logger.info("building services for %s", dict(zip(SERVICE_FIELDS, key, strict=True)))
                self._built[key] = self._build(context)
            return self._built[key]

    def built(self) -> list[Resources]:
        """Return the services built so far."""
        with self._lock:
            return list(self._built.values())

    def close(self) -> None:
        """Close every service built so far (their models are dropped, their workers stopped)."""
        with self._lock:
            built, self._built = list(self._built.values()), {}
        for resources in {id(item): item for item in built}.values():
            resources.close()
