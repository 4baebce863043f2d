"""The respond node: the controller answers from the structured results; files and models listed exactly."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime

from graph.context import Context
from graph.cues import unavailable_note
from graph.plan import latest_request
from graph.prompts import render
from graph.review import REJECTED
from graph.services import Services
from graph.state import Outputs, State, TaskResult, output_files
from tools.artifacts import Workspace

logger = logging.getLogger(__name__)

FileNamer = Callable[[str], str]
"""Turns a produced file's path into the name an answer uses for it (a URL path when served)."""


def _same(path: str) -> str:
    return path


def named_outputs(outputs: Outputs, name: FileNamer = _same) -> dict[str, Any]:
    """Return a result's outputs without empty fields and structured data, files named by ``name``."""
    shown: dict[str, Any] = {}
    for key in ("text", "image", "audio", "video"):
        value = outputs.get(key)
        if value:
            shown[key] = value if key == "text" else name(str(value))
    return shown


def results_for_prompt(results: Sequence[TaskResult], name: FileNamer = _same) -> list[dict[str, Any]]:
    """Return the results as compact dicts for the responder prompt (no timings, no empty fields)."""
    compact = []
    for result in results:
        entry = {
            "task_id": result["id"],
            "task": result["task"],
            "status": result["status"],
            "model": result["model"],
            "args": result["args"],
            "outputs": named_outputs(result["outputs"], name),
            "error": result["error"],
        }
        compact.append({key: value for key, value in entry.items() if value not in (None, {}, "")})
    return compact


def footer(results: Sequence[TaskResult], name: FileNamer = _same) -> str:
    """Return the exact list of models used and files produced (the LLM's prose may not name every one)."""
    lines = []
    for result in results:
        done = result["status"] == "done"
        model = f" on {result['model']}" if result["model"] and done else ""
        files = ", ".join(name(path) for path in output_files(result["outputs"]))
        detail = f" -> {files}" if files else ""
        if not done:
            detail = f": {result['error']}"
        lines.append(f"- task {result['id']} {result['task']}{model}: {result['status']}{detail}")
    return "Tasks:\n" + "\n".join(lines)


def nothing_done_answer(results: Sequence[TaskResult]) -> str:
    """Return the answer for a run where no task succeeded: what failed and why, no invented files."""
    return "I could not complete any part of this request.\n" + footer(results)


async def respond(state: State, runtime: Runtime[Context], services: Services) -> dict[str, Any]:
    """Write the final answer and append it to the chat.

    With no plan, or no successful task, the answer is composed without the LLM, so it cannot invent
    results. Otherwise the controller answers from the results and the exact task list is appended.

    Args:
        state: the graph state.
        runtime: carries the run's Context.
        services: where the controller comes from.

    Returns:
        ``answer`` and the answer as a new AI message.
    """
    results = state.get("results", [])
    settings = services.settings(runtime.context)
    files = Workspace.for_run(
        settings.workspace_dir, state.get("run_id", "run"), files_url=settings.files_url
    )
    error = state.get("plan_error")
    if error:
        rejected = error.startswith(REJECTED)
        answer = (
            f"Nothing was run: {error}." if rejected else f"I could not make a plan for this request: {error}"
        )
    elif not any(result["status"] == "done" for result in results):
        answer = nothing_done_answer(results)
    else:
        llm = (await services.resources(settings)).llm
        text = await _llm_answer(state, llm, settings, files.public_name)
        answer = f"{text}\n\n{footer(results, files.public_name)}"
    note = unavailable_note(state.get("unavailable") or [])
    if note:
        answer = f"{answer}\n\n{note}"
    return {"answer": answer, "messages": [AIMessage(answer)]}


async def _llm_answer(state: State, llm: BaseChatModel, settings: Context, name: FileNamer) -> str:
    prompt = render(
        "responder",
        request=latest_request(state.get("messages", [])) or "(a given plan)",
        results=json.dumps(results_for_prompt(state.get("results", []), name), indent=1, default=str),
    )
    try:
        message = await llm.ainvoke([HumanMessage(prompt)], max_tokens=settings.answer_max_tokens)
    except Exception as error:  # noqa: BLE001 - the results stay available even if the answer call fails
        logger.warning("answer call failed: %s", error)
        return f"(The controller could not write an answer: {error}.) The results are below."
    return (
        without_repeats(message.text) or "(The controller returned an empty answer.) The results are below."
    )


def without_repeats(text: str) -> str:
    """Drop sentences that repeat an earlier one word for word (small models loop), and trim the text."""
    seen: set[str] = set()
    kept = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        key = " ".join(sentence.lower().split())
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(sentence)
    return " ".join(kept).strip()
