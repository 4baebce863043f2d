"""The local backend: in-process models, loaded once into one cache, served in batches off the event loop.

Calls to the same model that arrive together go through it as one batch (`tools.backends.batching`): up to
the runner's ``max_batch`` and the backend's ``max_batch_size``; a burst may linger ``batch_wait_s`` for more.
A runner that takes one call at a time still gets a queue of its own, so a stuck model delays only itself.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence

from tools.backends.batching import ModelQueue, Slots
from tools.backends.model_cache import ModelCache
from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Outcome, Runner, TaskOutput

logger = logging.getLogger(__name__)


class RunnerNotFoundError(LookupError):
    """A model card names a runner that is not registered."""


class LocalBackend:
    """Runs tasks on in-process models, loading each model once.

    Args:
        runners: runner name -> runner.
        options: device and dtype for loading.
        max_workers: how many batches may run at once (across models).
        max_models: how many loaded models to keep; the least recently used is dropped past that.
        max_batch_size: the most calls one batch takes (the runner's own limit applies too).
        batch_wait_s: how long a burst of calls to one model lingers for more (0: not at all).
        memory_budget_mb: the most memory the kept models may take (0: no limit).
    """

    def __init__(
        self,
        runners: Mapping[str, Runner],
        options: LoadOptions | None = None,
        max_workers: int = 8,
        max_models: int = 8,
        max_batch_size: int = 8,
        batch_wait_s: float = 0.0,
        memory_budget_mb: float = 0,
    ) -> None:
        self._runners = dict(runners)
        self._options = options or LoadOptions()
        self._slots = Slots(max_workers)
        self._cache = ModelCache(max_models, int(memory_budget_mb * 2**20))
        self._max_batch_size = max(1, max_batch_size)
        self._batch_wait_s = batch_wait_s
        self._queues: dict[str, ModelQueue] = {}
        self._queues_lock = threading.Lock()
        self._closed = False

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
        """Run one call on ``card``'s model, batched with other calls to it that arrive together.

        Args:
            card: the model.
            call: the resolved arguments and workspace.

        Returns:
            The task's output. Cancelling the wait (a timeout) gives the call up without waiting for it.
        """
        runner = self.runner_for(card)
        future = self._queue(runner, card).submit(call)
        return await asyncio.wrap_future(future)

    def _queue(self, runner: Runner, card: ModelCard) -> ModelQueue:
        key = f"{runner.name}::{runner.cache_key(card)}::{sorted(card.options.items())}"
        with self._queues_lock:
            if self._closed:
                raise RuntimeError("the local backend is closed")
            model_queue = self._queues.get(key)
            if model_queue is None:
                model_queue = ModelQueue(
                    card.id,
                    lambda calls: self._run_batch(runner, card, calls),
                    self._slots,
                    max_batch=self._batch_limit(runner),
                    wait_s=self._batch_wait_s,
                )
                self._queues[key] = model_queue
            return model_queue

    def _batch_limit(self, runner: Runner) -> int:
        if self._options.device.startswith("cpu") and not runner.batch_on_cpu:
            return 1
        return min(runner.max_batch, self._max_batch_size)

    def _run_batch(self, runner: Runner, card: ModelCard, calls: Sequence[Call]) -> list[Outcome]:
        model = self._cache.get(runner.cache_key(card), lambda: runner.load(card, self._options), card.id)
        if len(calls) > 1:
            logger.debug("%s: one batch of %d calls", card.id, len(calls))
        return runner.forward(model, calls)

    def loaded(self) -> list[str]:
        """Return the cache keys of the loaded models, least recently used first."""
        return self._cache.keys()

    def close(self) -> None:
        """Stop every model's queue (waiting, bounded, for running batches) and drop the loaded models."""
        with self._queues_lock:
            self._closed = True
            queues, self._queues = list(self._queues.values()), {}
        for model_queue in queues:
            model_queue.close()
        self._cache.clear()
