"""What the page's controls do: send a request (streamed), open a thread, start a new one, list threads.

The handlers call the server's own graph in-process through its `Hub`: the stage updates stream from
``graph.astream`` straight to the page, and every turn is a durable thread in the server's checkpointer.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.types import Command

from hugginggpt.server.hub import Hub, new_thread_id
from hugginggpt.threads import waiting_for
from hugginggpt.ui import history
from hugginggpt.ui.turn import TurnProgress, stream_turn
from hugginggpt.ui.uploads import UploadRefused, keep_uploads_async, name_attachments, request_text
from hugginggpt.ui.views import ChatMessage

logger = logging.getLogger(__name__)

INFERENCE_MODES = ("local", "remote", "hybrid")
MAX_KNOWN_THREADS = 50
ThreadEntry = dict[str, str]
"""A thread in the browser's list: ``{"id", "title"}``."""


class PlanTextError(ValueError):
    """The given plan is not a JSON list of tasks."""


def parse_plan(text: str) -> list[dict[str, Any]] | None:
    """Return the given plan, or None when the box is empty.

    Raises:
        PlanTextError: when the text is not a JSON list of task objects.
    """
    if not text.strip():
        return None
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanTextError(f"the given plan is not valid JSON ({error})") from error
    if isinstance(plan, dict) and isinstance(plan.get("tasks"), list):
        plan = plan["tasks"]
    if not isinstance(plan, list) or not all(isinstance(task, dict) for task in plan):
        raise PlanTextError('the given plan must be a JSON list of tasks: [{"id", "task", "dep", "args"}]')
    return plan


def review_answer(text: str) -> Any:
    """Return a reply to a plan review as the graph takes it: a JSON plan or decision, else the words."""
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return stripped
    return stripped or "reject"


def remember(known: list[ThreadEntry], thread_id: str, title: str) -> list[ThreadEntry]:
    """Return the thread list with ``thread_id`` first (added with ``title`` when new)."""
    entries = [entry for entry in known or [] if entry.get("id") != thread_id]
    previous = [entry for entry in known or [] if entry.get("id") == thread_id]
    first = previous[0] if previous else {"id": thread_id, "title": title}
    return [first, *entries][:MAX_KNOWN_THREADS]


def thread_choices(known: list[ThreadEntry]) -> list[tuple[str, str]]:
    """Return the thread list as (title, id) choices."""
    return [(entry.get("title") or entry["id"], entry["id"]) for entry in known or [] if entry.get("id")]


def controller_choices(configured: str, installed: Sequence[str], offered: Sequence[str]) -> list[str]:
    """Return the controllers the page offers: the configured one, the installed embedded ones, the listed."""
    return list(dict.fromkeys([configured, *installed, *offered]))


@dataclasses.dataclass(frozen=True)
class Actions:
    """The page's event handlers, bound to the server's hub.

    Attributes:
        hub: the server's graph, settings and services.
        components: the UI module (``gradio``), for the players and updates.
    """

    hub: Hub
    components: Any

    def run_context(self, controller: str, mode: str) -> Any:
        """Return the run's Context: the server's, with the chosen controller and inference mode.

        Raises:
            ValueError: when the inference mode is not one of `INFERENCE_MODES`.
        """
        if mode not in INFERENCE_MODES:
            raise ValueError(f"inference mode {mode!r}: choose one of {', '.join(INFERENCE_MODES)}")
        context = self.hub.context
        chosen = controller.strip() or context.controller
        if chosen == context.controller and mode == context.inference_mode:
            return context
        return dataclasses.replace(context, controller=chosen, inference_mode=mode)

    async def send(
        self,
        message: dict[str, Any],
        chat: list[ChatMessage],
        thread_id: str,
        known: list[ThreadEntry],
        controller: str,
        mode: str,
        plan_text: str,
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Run a request in the current thread, yielding (chat, box, thread, known, threads) as it goes."""
        gr = self.components
        chat = list(chat or [])
        text = str((message or {}).get("text") or "")
        files = [str(file) for file in (message or {}).get("files") or []]
        try:
            plan = parse_plan(plan_text or "")
            context = self.run_context(controller, mode)
            uploaded = await keep_uploads_async(
                files, self.hub.context.inputs_dir, self.hub.settings.max_upload_bytes
            )
        except (PlanTextError, UploadRefused, ValueError) as error:
            chat.append({"role": "assistant", "content": f"**Not sent:** {error}"})
            yield chat, gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        plan = name_attachments(plan, files, uploaded)
        request = request_text(text, uploaded)
        if not request and plan is None:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        request = request or "Run the given plan."
        snapshot = await self.hub.snapshot(thread_id) if thread_id else None
        fresh = snapshot is None
        thread_id = thread_id or new_thread_id()
        known = remember(known, thread_id, history.title_of({"messages": [HumanMessage(request)]}))
        chat += history.user_messages(request, self.hub.context.inputs_dir, gr)
        progress = TurnProgress(workspace_dir=self.hub.context.workspace_dir)
        inputs: Any = {"messages": [HumanMessage(request)]}
        if plan is not None:
            inputs["plan"] = plan
        if snapshot is not None and waiting_for(snapshot) is not None:  # this message is the review
            inputs = Command(resume=review_answer(text))
            progress = history.last_run(snapshot.values, self.hub.context.workspace_dir)
            progress.selections, progress.results = [], {}
        threads = gr.update(choices=thread_choices(known), value=thread_id)
        cleared = gr.update(value=None, interactive=False)
        yield chat, cleared, thread_id, known, threads
        logger.info("ui request in %s thread %s", "a new" if fresh else "the", thread_id)
        config = self.hub.config(thread_id, "hugginggpt-ui")
        async for step in stream_turn(self.hub.graph, inputs, config, context, progress):
            yield chat + step.messages(gr, thread_id), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        final = chat + progress.messages(gr, thread_id)
        yield final, gr.update(interactive=True), gr.skip(), gr.skip(), gr.skip()

    async def open_thread(self, thread_id: str) -> tuple[list[ChatMessage], str]:
        """Return a thread's chat (rebuilt from its checkpoint) and make it the current thread."""
        if not thread_id:
            return [], ""
        snapshot = await self.hub.snapshot(thread_id)
        if snapshot is None:
            note = f"Thread {thread_id} is not on this server (its store may have been reset)."
            return [{"role": "assistant", "content": note}], ""
        context = self.hub.context
        shown = history.thread_messages(
            snapshot.values, context.workspace_dir, context.inputs_dir, self.components
        )
        return shown, thread_id

    async def open_by_id(
        self, thread_id: str, known: list[ThreadEntry]
    ) -> tuple[list[ChatMessage], str, list[ThreadEntry], Any]:
        """Open a thread by its id (one started elsewhere: the CLI chat, another browser) and list it."""
        wanted = thread_id.strip()
        chat, current = await self.open_thread(wanted)
        if current:
            snapshot = await self.hub.snapshot(current)
            known = remember(known, current, history.title_of(snapshot.values if snapshot else {}))
        threads = self.components.update(choices=thread_choices(known), value=current or None)
        return chat, current, known, threads

    async def restore(self, known: list[ThreadEntry]) -> tuple[Any, list[ChatMessage], str]:
        """On page load: list the browser's threads and reopen the latest one."""
        entries = [entry for entry in known or [] if entry.get("id")]
        latest = entries[0]["id"] if entries else ""
        chat, current = await self.open_thread(latest)
        threads = self.components.update(choices=thread_choices(entries), value=latest or None)
        return threads, chat, current

    def new_chat(self) -> tuple[list[ChatMessage], str, Any, Any]:
        """Start a new thread (made on the first request)."""
        gr = self.components
        return [], "", gr.update(value=None), gr.update(value=None, interactive=True)
