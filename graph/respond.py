"""The respond node: the controller answers from the structured results; files and models listed exactly."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime

from graph.context import Context
from graph.plan import latest_request
from graph.prompts import render
from graph.resources import resources_of
from graph.state import State, TaskResult

logger = logging.getLogger(__name__)


def results_for_prompt(results: Sequence[TaskResult]) -> list[dict[str, Any]]:
    """Return the results as compact dicts for the responder prompt (no timings, no empty fields)."""
    compact = []
    for result in results:
        outputs = result.outputs.model_dump(exclude_none=True, exclude_defaults=True, exclude={"data"})
        entry = {
            "task_id": result.id,
            "task": result.task,
            "status": result.status,
            "model": result.model,
            "args": result.args,
            "outputs": outputs,
            "error": result.error,
        }
        compact.append({key: value for key, value in entry.items() if value not in (None, {}, "")})
    return compact


def footer(results: Sequence[TaskResult]) -> str:
    """Return the exact list of models used and files produced (the LLM's prose may not name every one)."""
    lines = []
    for result in results:
        model = f" on {result.model}" if result.model and result.status == "done" else ""
        files = ", ".join(result.outputs.files())
        detail = f" -> {files}" if files else ""
        if result.status != "done":
            detail = f": {result.error}"
        lines.append(f"- task {result.id} {result.task}{model}: {result.status}{detail}")
    return "Tasks:\n" + "\n".join(lines)


def nothing_done_answer(results: Sequence[TaskResult]) -> str:
    """Return the answer for a run where no task succeeded: what failed and why, no invented files."""
    return "I could not complete any part of this request.\n" + footer(results)


async def respond(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Write the final answer and append it to the chat.

    With no plan, or no successful task, the answer is composed without the LLM, so it cannot invent
    results. Otherwise the controller answers from the results and the exact task list is appended.

    Args:
        state: the graph state.
        runtime: carries the run's Context.

    Returns:
        ``answer`` and the answer as a new AI message.
    """
    results = state.get("results", [])
    if state.get("plan_error"):
        answer = f"I could not make a plan for this request: {state['plan_error']}"
    elif not any(result.status == "done" for result in results):
        answer = nothing_done_answer(results)
    else:
        answer = f"{await _llm_answer(state, runtime.context)}\n\n{footer(results)}"
    return {"answer": answer, "messages": [AIMessage(answer)]}


async def _llm_answer(state: State, context: Context) -> str:
    prompt = render(
        "responder",
        request=latest_request(state.get("messages", [])) or "(a given plan)",
        results=json.dumps(results_for_prompt(state.get("results", [])), indent=1, default=str),
    )
    try:
        llm = resources_of(context).llm.bind(max_tokens=context.answer_max_tokens)
        message = await llm.ainvoke([HumanMessage(prompt)])
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
