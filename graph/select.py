"""The select node: candidates per task from the catalog, one LLM call to choose where there is a choice."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from graph.context import Context
from graph.plan import latest_request
from graph.prompts import render
from graph.services import Resources, Services
from graph.state import Selection, State, Task, TaskResult, make_selection, not_run
from graph.structured import ask
from tools.models import ModelCard

logger = logging.getLogger(__name__)


class ModelChoice(BaseModel):
    """The model chosen for one task."""

    task_id: int = Field(description="The id of the task.")
    model: str = Field(description="The id of one of that task's candidates.")
    reason: str = Field(description="Why this model fits the request, in one short sentence.")


class ModelChoices(BaseModel):
    """One choice per task listed."""

    choices: list[ModelChoice] = Field(description="One entry per task.")


def no_model_message(task: str, resources: Resources) -> str:
    """Return the result text for a task with no usable model: what is missing, and how to get one."""
    backends = resources.backend
    where = "offline " if backends.mode == "local" and not resources.catalog.hub_online else ""
    known = resources.catalog.candidates(task, 3)
    if not known:
        return f"no model available {where}for {task}: the catalog lists none"
    names = ", ".join(card.id for card in known)
    hint = (
        f"`hugginggpt models pull {known[0].id}` while online" if backends.mode != "remote" else "hybrid mode"
    )
    return f"no model available {where}for {task} ({names} cannot run here now; try {hint})"


def candidates_for(task: Task, resources: Resources, top_k: int) -> list[ModelCard]:
    """Return the ranked candidates of ``task`` that a configured backend can run (blocking: reads disk)."""
    return resources.backend.candidates(task["task"], top_k)


async def select(state: State, runtime: Runtime[Context], services: Services) -> dict[str, Any]:
    """Choose a model for every task: none needed for one candidate, one LLM call for all the others.

    Args:
        state: the graph state (``tasks``).
        runtime: carries the run's Context.
        services: where the catalog, backend and controller come from.

    Returns:
        ``selections`` for every task, and failed ``results`` for tasks with no available model.
    """
    settings = services.settings(runtime.context)
    resources = await services.resources(settings)
    tasks = state.get("tasks", [])
    # Availability looks at the disk (the HF cache, installed packages): off the event loop, unless every
    # candidate's route was read in the last ROUTE_TTL_S (planning has normally just read them all).
    known = [resources.backend.known_candidates(task["task"], settings.top_k) for task in tasks]
    found: list[list[ModelCard]] = [cards for cards in known if cards is not None]
    if len(found) < len(tasks):
        found = await asyncio.to_thread(
            lambda: [candidates_for(task, resources, settings.top_k) for task in tasks]
        )
    selections: list[Selection] = []
    results: list[TaskResult] = []
    to_choose: list[tuple[Task, list[ModelCard]]] = []
    for task, cards in zip(tasks, found, strict=True):
        if not cards:
            reason = no_model_message(task["task"], resources)
            selections.append(make_selection(task, None, reason))
            results.append(not_run(task, "failed", reason))
        elif len(cards) == 1:
            selections.append(
                _selection(task, cards, cards[0].id, "the only available candidate", by_llm=False)
            )
        else:
            to_choose.append((task, cards))
    if to_choose:
        selections.extend(await _choose(to_choose, latest_request(state.get("messages", [])), resources))
    return {"selections": selections, "results": results}


def _selection(task: Task, cards: Sequence[ModelCard], chosen: str, reason: str, by_llm: bool) -> Selection:
    order = [chosen, *(card.id for card in cards if card.id != chosen)]
    return make_selection(task, chosen, reason, order, by_llm=by_llm)


async def _choose(
    to_choose: Sequence[tuple[Task, list[ModelCard]]], request: str, resources: Resources
) -> list[Selection]:
    prompt = render("selector", request=request, tasks=_describe(to_choose))
    try:
        reply = await ask(resources.llm, ModelChoices, [HumanMessage(prompt)], cache=resources.structured)
        choices = {choice.task_id: choice for choice in reply.parsed.choices} if reply.parsed else {}
        problem = reply.error
    except Exception as error:  # noqa: BLE001 - a dead controller must not lose the tasks
        logger.warning("model selection call failed: %s", error)
        choices, problem = {}, f"the selection call failed ({error})"
    selections = []
    for task, cards in to_choose:
        ids = {card.id for card in cards}
        choice = choices.get(task["id"])
        if choice is not None and choice.model in ids:
            selections.append(_selection(task, cards, choice.model, choice.reason, by_llm=True))
            continue
        if choice is not None:
            why = (
                f"the controller chose {choice.model!r}, which is not a candidate; using the most downloaded"
            )
        else:
            why = (
                f"no choice for this task ({problem or 'missing from the reply'}); using the most downloaded"
            )
        selections.append(_selection(task, cards, cards[0].id, why, by_llm=False))
    return selections


def _describe(to_choose: Sequence[tuple[Task, list[ModelCard]]]) -> str:
    blocks = []
    for task, cards in to_choose:
        listed = [
            {"id": card.id, "downloads": card.downloads, "likes": card.likes, "description": card.description}
            for card in cards
        ]
        blocks.append(
            f"task {task['id']}: {task['task']} with args {json.dumps(task['args'])}\n"
            f"candidates: {json.dumps(listed)}"
        )
    return "\n\n".join(blocks)
