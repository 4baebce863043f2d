"""Per-model queues that gather calls arriving together into one batch, and the slots that bound the work.

Each loaded model has one `ModelQueue` with its own thread: calls to that model queue up, and the thread takes
up to ``max_batch`` of them and runs them as one forward. A lone call runs at once; when several are already
queued (a burst), the thread lingers up to ``wait_s`` for the rest. Calls that arrive while a batch
runs form the next one.
A model therefore runs one batch at a time, which is what a GPU wants (two models in two threads gain nothing
on one card; a batch of eight costs little more than one).

A call's future stays pending until its result is set, so a caller that gives up (a task timeout) cancels it.
When every call of a running batch has been given up, the batch's slot is released at once: a stuck model
never keeps a fallback model waiting for a worker. Its thread keeps running and is written off.
"""

from __future__ import annotations

import asyncio
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
        self._queue: queue.SimpleQueue[list[Pending] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._inbox: list[Pending] = []
        self._flush_scheduled = False
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, call: Call) -> Future[TaskOutput]:
        """Queue ``call`` and return the future of its output (cancel it to give up).

        Calls submitted from one event loop in the same iteration of it (a ``gather`` of tasks) reach the
        model's thread together, so they form one batch without waiting.
        """
        pending = Pending(call)
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            if self._closed:
                raise RuntimeError("the backend is closed")
            self._inbox.append(pending)
            if loop is None:
                self._flush_locked()
            elif not self._flush_scheduled:
                self._flush_scheduled = True
                loop.call_soon(self._flush)
        return pending.future

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop taking calls, let the thread finish what it holds, and wait for it (bounded)."""
        with self._lock:
            self._closed = True
            self._flush_locked()
            thread = self._thread
        self._queue.put(None)
        if thread is not None:
            thread.join(timeout_s)

    def _flush(self) -> None:
        with self._lock:
            self._flush_scheduled = False
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._inbox:
            return
        self._queue.put(self._inbox)
        self._inbox = []
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=f"hf-task:{self.name}", daemon=True)
            self._thread.start()

    def _serve(self) -> None:
        backlog: list[Pending] = []
        while True:
            if not backlog and not self._wait_for_calls(backlog):
                return
            stopping = not self._gather(backlog)
            batch, backlog = backlog[: self._max_batch], backlog[self._max_batch :]
            live = [item for item in batch if not item.future.cancelled()]
            if live:
                self._run(live)
            if stopping and not backlog:
                return

    def _wait_for_calls(self, backlog: list[Pending]) -> bool:
        """Block until calls arrive (added to ``backlog``); False when idle too long or told to stop."""
        try:
            group = self._queue.get(timeout=self._idle_s)
        except queue.Empty:
            with self._lock:
                if self._queue.empty() and not self._inbox:
                    self._thread = None
                    return False
            return True
        if group is None:
            return False
        backlog.extend(group)
        return True

    def _gather(self, backlog: list[Pending]) -> bool:
        """Add what is already queued; for a burst (several calls), linger up to ``wait_s`` for the rest.

        Returns:
            False when the queue was told to stop.
        """
        burst = len(backlog) > 1
        deadline = time.monotonic() + self._wait_s
        while len(backlog) < self._max_batch:
            try:
                if burst:
                    group = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                else:
                    group = self._queue.get_nowait()
            except queue.Empty:
                return True
            if group is None:
                return False
            backlog.extend(group)
            burst = True
        return True

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
