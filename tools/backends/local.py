"""The local backend: models load once into a cache and run in a worker pool, off the event loop.

Every call to a local model passes through `LocalBackend.run`, so a per-model queue that gathers concurrent
calls into one batch (what pays on a GPU) can be added here without touching the graph.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput

logger = logging.getLogger(__name__)

# transformers and diffusers build a model under process-wide patches (meta-device init swaps
# `nn.Module.register_parameter` for every thread), so a load in one thread can leave another thread's model
# on the meta device ("Cannot copy out of meta tensor"). Loads therefore run one at a time in the process;
# inference stays parallel.
_LOADING = threading.Lock()


class RunnerNotFoundError(LookupError):
    """A model card names a runner that is not registered."""


class LocalBackend:
    """Runs tasks on in-process models, loading each model once.

    Args:
        runners: runner name -> runner.
        options: device and dtype for loading.
        max_workers: how many blocking calls may run at once.
        max_models: how many loaded models to keep; the least recently used is dropped past that.
    """

    def __init__(
        self,
        runners: Mapping[str, Runner],
        options: LoadOptions | None = None,
        max_workers: int = 8,
        max_models: int = 8,
    ) -> None:
        self._runners = dict(runners)
        self._options = options or LoadOptions()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="hf-task")
        self._max_models = max_models
        self._models: OrderedDict[str, Any] = OrderedDict()
        self._models_lock = threading.Lock()
        self._load_locks: dict[str, threading.Lock] = {}

    @property
    def options(self) -> LoadOptions:
        """Return the device and dtype models are loaded with."""
        return self._options

    def runner_for(self, card: ModelCard) -> Runner:
        """Return the runner that serves ``card``.

        Raises:
            RunnerNotFoundError: when its runner is not registered.
        """
        try:
            return self._runners[card.runner_name]
        except KeyError:
            raise RunnerNotFoundError(f"no runner {card.runner_name!r} for model {card.id}") from None

    def can_run(self, card: ModelCard) -> bool:
        """Tell whether a runner is registered for ``card``."""
        return card.runner_name in self._runners

    async def run(self, card: ModelCard, call: Call) -> TaskOutput:
        """Run one call on ``card``'s model in the worker pool (loading the model first if needed).

        Args:
            card: the model.
            call: the resolved arguments and workspace.

        Returns:
            The task's output.
        """
        runner = self.runner_for(card)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._load_and_run, runner, card, call)

    def _load_and_run(self, runner: Runner, card: ModelCard, call: Call) -> TaskOutput:
        model = self._model(runner, card)
        return runner.run(model, call)

    def _model(self, runner: Runner, card: ModelCard) -> Any:
        key = f"{runner.name}::{card.location}"
        with self._models_lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            load_lock = self._load_locks.setdefault(key, threading.Lock())
        with load_lock:  # one load per model, even when calls arrive together
            with self._models_lock:
                if key in self._models:
                    return self._models[key]
            with _LOADING:
                started = time.perf_counter()
                model = runner.load(card, self._options)
            logger.info("loaded %s (%s) in %.2fs", card.id, runner.name, time.perf_counter() - started)
            with self._models_lock:
                self._models[key] = model
                while len(self._models) > self._max_models:
                    evicted, _ = self._models.popitem(last=False)
                    logger.info("evicted %s from the model cache", evicted)
            return model

    def loaded(self) -> list[str]:
        """Return the cache keys of the loaded models, least recently used first."""
        with self._models_lock:
            return list(self._models)

    def close(self) -> None:
        """Drop the loaded models and stop the worker pool (waiting for running calls)."""
        self._pool.shutdown(wait=True)
        with self._models_lock:
            self._models.clear()
