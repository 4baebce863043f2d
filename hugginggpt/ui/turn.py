"""One chat turn as it happens: the graph's stage updates become the messages the page shows.

The graph runs in-process (the server's own compiled graph and checkpointer), streamed with
``stream_mode="updates"`` as the CLI does; a one-second tick refreshes the running tasks' times
while no stage reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.state import Selection, Task, TaskResult
from hugginggpt.ui import views
from hugginggpt.ui.views import ChatMessage

TICK_S = 1.0
"""How often the running tasks' times are refreshed while nothing else happens."""
_DONE = object()


@dataclass
class TurnProgress:
    """What one turn has shown so far: the plan, the model choices, the results, the answer.

    Attributes:
        workspace_dir: the folder of the runs' folders (to find produced files).
        tasks: the validated plan.
        attempts: how many planning calls the plan took (0: a given plan).
        plan_error: why there is no plan.
        unavailable: task types no model here can run.
        selections: the chosen model of each task.
        results: the finished tasks by id.
        answer: the final answer.
        error: why the run itself failed (the controller is down, ...).
        waiting: the run stopped for a plan review.
        executing_since: when the tasks started running (monotonic seconds).
    """

    workspace_dir: str
    tasks: list[Task] = field(default_factory=list)
    attempts: int = 0
    planned: bool = False
    plan_error: str | None = None
    unavailable: list[str] = field(default_factory=list)
    selections: list[Selection] = field(default_factory=list)
    results: dict[int, TaskResult] = field(default_factory=dict)
    answer: str = ""
    error: str = ""
    waiting: bool = False
    executing_since: float | None = None

    def apply(self, node: str, update: Mapping[str, Any] | None) -> None:
        """Take in one node's state update."""
        update = update or {}
        if node == "plan":
            self.planned = True
            self.tasks = list(update.get("tasks") or [])
            self.attempts = int(update.get("plan_attempts") or 0)
            self.plan_error = update.get("plan_error")
            self.unavailable = list(update.get("unavailable") or [])
        elif node == "review":
            self.waiting = False
            self.tasks = list(update.get("tasks", self.tasks))
            self.plan_error = update.get("plan_error", self.plan_error)
        elif node == "select":
            self.selections = list(update.get("selections") or [])
            self.executing_since = time.monotonic()
            for result in update.get("results") or []:  # tasks no model here can run
                self.results[int(result["id"])] = result
        elif node == "run_task" and "status" in update:
            self.results[int(update["id"])] = update  # type: ignore[assignment]
        elif node == "execute":
            for result in update.get("results") or []:
                self.results[int(result["id"])] = result
        elif node == "respond":
            self.answer = str(update.get("answer") or "")
        elif node == "__interrupt__":
            self.waiting = True

    def running_times(self) -> dict[int, float]:
        """Return how long each started, unfinished task has run (its dependencies done)."""
        if self.executing_since is None:
            return {}
        elapsed = time.monotonic() - self.executing_since
        return {
            task["id"]: elapsed
            for task in self.tasks
            if task["id"] not in self.results and all(dep in self.results for dep in task["dep"])
        }

    def messages(self, components: Any, thread_id: str) -> list[ChatMessage]:
        """Return this turn's messages: the stages, then the answer and the produced files."""
        shown: list[ChatMessage] = []
        if self.planned:
            shown.append(self._plan_message())
        if self.selections:
            shown.append(views.thought("Models", views.selections_view(self.selections), done=True))
        if self.selections and self.tasks:
            finished = len(self.results) >= len(self.tasks)
            chosen = {selection["id"]: selection["model"] for selection in self.selections}
            content = views.statuses_view(self.tasks, self.results, self.running_times(), chosen)
            shown.append(views.thought("Tasks", content, done=finished, log=self._tasks_log()))
        shown += self._ending(components, thread_id)
        return shown

    def _plan_message(self) -> ChatMessage:
        if self.plan_error:
            return views.thought("Plan: none", f"No plan: {self.plan_error}", done=True)
        return views.thought("Plan", views.plan_view(self.tasks, self.attempts), done=True)

    def _tasks_log(self) -> str:
        done = sum(result["status"] == "done" for result in self.results.values())
        return f"{done}/{len(self.tasks)} done"

    def _ending(self, components: Any, thread_id: str) -> list[ChatMessage]:
        notes = []
        if self.error:
            notes.append(f"**The request failed:** {self.error}")
        if not self.answer:  # the answer says these itself
            if self.plan_error:
                notes.append(f"**I could not make a plan for this request:** {self.plan_error}")
            if self.unavailable:
                notes.append(f"**No model can run here for:** {', '.join(self.unavailable)}")
            notes += [f"**{line}**" for line in views.failure_lines(self.results.values())]
        if self.waiting:
            notes.append(
                "**The plan waits for your review:** reply *approve*, *reject*, or an edited JSON plan "
                f"(over HTTP: POST /threads/{thread_id}/resume)."
            )
        shown: list[ChatMessage] = [{"role": "assistant", "content": note} for note in notes]
        if self.answer:
            shown.append({"role": "assistant", "content": self.answer})
            shown += views.media_messages(self._file_urls(), self.workspace_dir, components)
            shown += views.labels_messages(self.results.values())
        return shown

    def _file_urls(self) -> list[str]:
        urls = views.file_urls(self.answer)
        for result in sorted(self.results.values(), key=lambda item: item["id"]):
            for key in ("image", "audio", "video"):
                path = result["outputs"].get(key)
                url = views.path_to_url(str(path), self.workspace_dir) if path else ""
                if url.startswith("/files/") and url not in urls:
                    urls.append(url)
        return urls


async def stream_turn(
    graph: Any, inputs: Any, config: Any, context: Any, progress: TurnProgress
) -> AsyncIterator[TurnProgress]:
    """Stream one run, yielding ``progress`` after every stage update and every tick while tasks run.

    Errors of the run itself (the controller cannot be reached, a bad setting) end the stream with
    ``progress.error`` set; cancelling the consumer (the Stop button) cancels the run.

    Args:
        graph: the compiled graph (with its checkpointer).
        inputs: the graph input.
        config: the run config (thread id, run name).
        context: the run's Context.
        progress: where the turn's state is gathered.
    """
    queue: asyncio.Queue[Any] = asyncio.Queue()
    pump = asyncio.create_task(_pump(graph, inputs, config, context, queue))
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=TICK_S)
            except TimeoutError:
                if progress.running_times():
                    yield progress
                continue
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                progress.error = f"{type(item).__name__}: {item}"
                yield progress
                return
            for node, update in item.items():
                progress.apply(node, update)
            yield progress
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump


async def _pump(graph: Any, inputs: Any, config: Any, context: Any, queue: asyncio.Queue[Any]) -> None:
    try:
        async for chunk in graph.astream(inputs, config=config, context=context, stream_mode="updates"):
            await queue.put(chunk)
    except Exception as error:  # shown on the page: the run could not go on
        await queue.put(error)
    else:
        await queue.put(_DONE)
