"""Per-model queues that gather calls arriving together into one batch, and the slots that bound the work.

Each loaded model has one `ModelQueue` with its own thread: calls to that model queue up, and the thread takes
up to ``max_batch`` of them (waiting at most ``wait_s`` for more after the first), runs them as one forward.
A model therefore runs one batch at a time, which is what a GPU wants (two models in two threads gain nothing
on one card; a batch of eight costs little more than one).

A call's future stays pending until its result is set, so a caller that gives up (a task timeout) cancels it.
When every call of a running batch has been given up, the batch's slot is released at once: a stuck model
never keeps a fallback model waiting for a worker. Its thread keeps running and is written off.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any

from tools.runners.base import Call, Outcome, TaskOutput

logger = logging.getLogger(__name__)

RunBatch = Callable[[Sequence[Call]], list[Outcome]]
"""Runs one batch of calls on a queue's model (loading it first if needed)."""


class Slots:
    """At most ``limit`` batches hold a slot at once; a written-off batch gives its slot back early."""

    def __init__(self, limit: int) -> None:
        self._free = max(1, limit)
        self._changed = threading.Condition()

    def acquire(self) -> None:
        """Wait for a free slot and take it."""
        with self._changed:
            while self._free == 0:
                self._changed.wait()
            self._free -= 1

    def release(self) -> None:
        """Give a slot back."""
        with self._changed:
            self._free += 1
            self._changed.notify()


@dataclass
class Pending:
    """One queued call and the future its caller waits on."""

    call: Call
    future: Future[TaskOutput] = field(default_factory=Future)


class _Batch:
    """A running batch: releases its slot once, when it finishes or when all its callers have given up."""

    def __init__(self, items: list[Pending], slots: Slots) -> None:
        self.items = items
        self._slots = slots
        self._released = False
        self._lock = threading.Lock()
        for item in items:
            item.future.add_done_callback(self._on_done)

    def _on_done(self, future: Future[TaskOutput]) -> None:
        if future.cancelled() and all(item.future.cancelled() for item in self.items):
            logger.warning("every call of a %d-call batch was given up; its slot is freed", len(self.items))
            self.release()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._slots.release()


class ModelQueue:
    """The calls waiting for one model, served by one thread in batches.

    Args:
        name: the model's cache key (for the thread name and logs).
        run_batch: runs one batch on the model.
        slots: the backend's shared slots.
        max_batch: the most calls one batch takes.
        wait_s: how long the first call of a batch waits for more to join it.
        idle_s: the thread ends after this long without calls (a later call starts a new one).
    """

    def __init__(
        self,
        name: str,
        run_batch: RunBatch,
        slots: Slots,
        max_batch: int,
        wait_s: float,
        idle_s: float = 30.0,
    ) -> None:
        self.name = name
        self._run_batch = run_batch
        self._slots = slots
        self._max_batch = max(1, max_batch)
        self._wait_s = max(0.0, wait_s)
        self._idle_s = idle_s
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, call: Call) -> Future[TaskOutput]:
        """Queue ``call`` and return the future of its output (cancel it to give up)."""
        pending = Pending(call)
        with self._lock:
            if self._closed:
                raise RuntimeError("the backend is closed")
            self._queue.put(pending)
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=f"hf-task:{self.name}", daemon=True)
                self._thread.start()
        return pending.future

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop taking calls, let the thread finish what it holds, and wait for it (bounded)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._queue.put(None)
        if thread is not None:
            thread.join(timeout_s)

    def _serve(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            if batch:
                self._run(batch)

    def _next_batch(self) -> list[Pending] | None:
        """Return the next batch (empty when every call in it was already given up), or None to stop."""
        try:
            first = self._queue.get(timeout=self._idle_s)
        except queue.Empty:
            with self._lock:
                if self._queue.empty():
                    self._thread = None
                    return None
            return []
        if first is None:
            return None
        batch = [first]
        deadline = time.monotonic() + self._wait_s
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # stop after this batch
                break
            batch.append(item)
        return [item for item in batch if not item.future.cancelled()]

    def _run(self, items: list[Pending]) -> None:
        self._slots.acquire()
        batch = _Batch(items, self._slots)
        try:
            outcomes = self._run_batch([item.call for item in items])
        except BaseException as error:  # noqa: BLE001 - a load error belongs to every call of the batch
            outcomes = [error if isinstance(error, Exception) else RuntimeError(repr(error))] * len(items)
        finally:
            batch.release()
        for item, outcome in zip(items, outcomes, strict=True):
            _settle(item.future, outcome)


def _settle(future: Future[Any], outcome: Outcome) -> None:
    try:
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
    except InvalidStateError:  # the caller gave up (cancelled) meanwhile
        pass
