"""The dependency board: lets a branch of a fan-out step wait for a task running in a sibling branch.

LangGraph runs the branches of one step together and joins them at the step's end. To start a task as soon
as its own inputs exist (readiness, not waves), every unfinished task is sent in the same step and a branch
awaits its dependencies here. A dependency that never starts in this process (its branch was done before a
resume, or a concurrency limit holds it back) is not waited for: the branch defers, and the next step
sends it again with the dependency's result from the state.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from graph.state import TaskResult


@dataclass
class StepBoard:
    """The tasks of one fan-out step: which have started, and their results once published."""

    started: dict[int, asyncio.Event] = field(default_factory=dict)
    results: dict[int, asyncio.Future[TaskResult | None]] = field(default_factory=dict)
    finished: set[int] = field(default_factory=set)

    def _event(self, task_id: int) -> asyncio.Event:
        return self.started.setdefault(task_id, asyncio.Event())

    def _future(self, task_id: int) -> asyncio.Future[TaskResult | None]:
        if task_id not in self.results:
            self.results[task_id] = asyncio.get_running_loop().create_future()
        return self.results[task_id]

    def start(self, task_id: int) -> None:
        """Record that the branch of ``task_id`` is running."""
        self._event(task_id).set()

    def publish(self, task_id: int, result: TaskResult | None) -> None:
        """Publish a task's result (None: it deferred) to the branches that wait for it."""
        future = self._future(task_id)
        if not future.done():
            future.set_result(result)
        self.finished.add(task_id)

    async def wait(self, task_id: int, start_grace_s: float) -> TaskResult | None:
        """Wait for a sibling task's result.

        Args:
            task_id: the dependency.
            start_grace_s: how long to wait for its branch to start before giving up.

        Returns:
            Its result, or None when it never started here or deferred itself.
        """
        try:
            await asyncio.wait_for(self._event(task_id).wait(), timeout=start_grace_s)
        except TimeoutError:
            return None
        return await self._future(task_id)


@dataclass
class Boards:
    """The boards of the steps running in this process, by step token."""

    steps: dict[str, StepBoard] = field(default_factory=dict)

    def for_step(self, step: str) -> StepBoard:
        """Return (creating if needed) the board of a step."""
        return self.steps.setdefault(step, StepBoard())

    def release(self, step: str, expected: int) -> None:
        """Forget a step's board once ``expected`` branches have published."""
        board = self.steps.get(step)
        if board is not None and len(board.finished) >= expected:
            del self.steps[step]
