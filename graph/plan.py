"""The plan node: request + chat history -> a validated task graph (structured output, bounded repair)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages
from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from graph.context import Context
from graph.cues import unavailable_task_types
from graph.embedded import EmbeddedChatModel
from graph.grammar import named_files, with_dependencies
from graph.plan_repair import drop_unfit_steps, fix_modalities, restore_long_text
from graph.plan_schema import MAX_TASKS, plan_tasks, registry_plan_schema
from graph.prompt_fit import PlanPrompt, PromptTooLongError, PromptWindow, fit_prompt, window_of
from graph.prompts import demos, render
from graph.referents import link_referents
from graph.retrieval import nearest
from graph.services import Services
from graph.skeleton import constrained_schema, link_chain
from graph.state import State, Task
from graph.structured import ask
from graph.validate import PlanValidationError, validate_plan
from tools.registry import TASKS, TaskSpec

logger = logging.getLogger(__name__)

DEMOS_PER_PROMPT = 3
"""Few-shot demos in the planning prompt: those most like the request (see `graph.retrieval`)."""


def latest_request(messages: Sequence[AnyMessage]) -> str:
    """Return the text of the last human message (empty when there is none)."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def planner_messages(
    request: str,
    history: Sequence[AnyMessage],
    registry: Mapping[str, TaskSpec],
    history_tokens: int,
    pool: Sequence[Mapping[str, Any]] | None = None,
    examples: Sequence[Mapping[str, Any]] | None = None,
) -> list[BaseMessage]:
    """Build the whole planning prompt: instructions, few-shot demos, the trimmed chat history, the request.

    Args:
        request: the user's request.
        history: earlier chat turns (without the request).
        registry: the task types the planner may use.
        history_tokens: the history's token budget (older turns are dropped first).
        pool: the demos to draw the nearest from (default: ``prompts/demos.json``).
        examples: the demos to show, already drawn (default: the nearest of ``pool``).

    Returns:
        The messages for the controller (`graph.prompt_fit` fits them to its window).
    """
    shown = nearest_demos(request, registry, pool) if examples is None else examples
    return PlanPrompt(request, registry, shown, trim_history(history, history_tokens)).messages()


def nearest_demos(
    request: str, registry: Mapping[str, TaskSpec], pool: Sequence[Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Return the `DEMOS_PER_PROMPT` demos of ``pool`` most like ``request`` using only ``registry``."""
    candidates = demos() if pool is None else pool
    usable = [dict(demo) for demo in candidates if all(task["task"] in registry for task in demo["plan"])]
    return nearest(request, usable, DEMOS_PER_PROMPT)


def trim_history(history: Sequence[AnyMessage], max_tokens: int) -> list[BaseMessage]:
    """Keep the latest chat turns that fit ``max_tokens`` (approximate count), starting on a human turn."""
    if max_tokens <= 0 or not history:
        return []
    kept = trim_messages(
        list(history),
        max_tokens=max_tokens,
        token_counter=count_tokens_approximately,
        strategy="last",
        start_on="human",
        allow_partial=False,
    )
    return list(kept)


def _reset(run_id: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "runs": [run_id],
        "plan": None,
        "selections": Overwrite([]),
        "results": Overwrite([]),
        "answer": "",
        "plan_error": None,
        "unavailable": [],
    }


async def plan(state: State, runtime: Runtime[Context], services: Services) -> dict[str, Any]:
    """Turn the request into a validated task graph, or record why none could be made.

    A plan given in the input is validated and used as is (no LLM call). Otherwise the controller is asked,
    and an invalid plan goes back to it with the errors, at most ``max_plan_retries`` more times.

    Args:
        state: the graph state.
        runtime: carries the run's Context.
        services: where the controller comes from.

    Returns:
        The state update: ``tasks`` or ``plan_error``, ``plan_attempts``, and a fresh ``run_id``.
    """
    update = _reset(uuid.uuid4().hex[:12])
    given = state.get("plan")
    if given:
        try:
            return {**update, "tasks": validate_plan(given, TASKS), "plan_attempts": 0}
        except PlanValidationError as error:
            return {
                **update,
                "tasks": [],
                "plan_attempts": 0,
                "plan_error": f"the given plan is invalid: {error}",
            }
    messages = state.get("messages", [])
    request = latest_request(messages)
    if not request.strip():
        return {**update, "tasks": [], "plan_attempts": 0, "plan_error": "there is no request to plan for"}
    history = messages[: max(0, _last_human_index(messages))]
    settings = services.settings(runtime.context)
    resources = await services.resources(settings)
    runnable = resources.known_planner_tasks()
    if runnable is None:
        runnable = await asyncio.to_thread(resources.planner_tasks)  # availability reads the disk
    update["unavailable"] = unavailable_task_types(request, runnable)
    if not runnable:
        return {
            **update,
            "tasks": [],
            "plan_attempts": 0,
            "plan_error": "no task type has a model that can run here",
        }
    tasks, attempts, failure = await make_plan(
        request, history, resources.llm, settings, resources.structured, runnable
    )
    if failure:
        return {**update, "tasks": [], "plan_attempts": attempts, "plan_error": failure}
    return {**update, "tasks": tasks, "plan_attempts": attempts}


def _last_human_index(messages: Sequence[AnyMessage]) -> int:
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return index
    return 0


async def make_plan(
    request: str,
    history: Sequence[AnyMessage],
    llm: BaseChatModel,
    context: Context,
    cache: dict[Any, Any] | None = None,
    task_names: Sequence[str] | None = None,
    demo_pool: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[list[Task], int, str | None]:
    """Ask the controller for a plan and repair it until it validates, a bounded number of times.

    Args:
        request: the user's request.
        history: earlier chat turns.
        llm: the controller.
        context: the limits.
        cache: where the controller's structured-output runnables are kept between calls.
        task_names: the task types the planner is offered (default: every registered one); in practice
            those with a model that can run now.
        demo_pool: the few-shot demos to draw from (default: ``prompts/demos.json``); an evaluation passes
            its own examples here, never including the request being planned.

    A valid plan that leaves a file of the request unused most likely dropped a task: it goes back for
    repair too, and is kept only when no later attempt does better (the unused files are logged).

    Returns:
        ``(tasks, attempts, error)``: the validated tasks and no error, or no tasks and why.
    """
    names = tuple(task_names) if task_names is not None else tuple(TASKS)
    registry = {name: TASKS[name] for name in names}
    schema = registry_plan_schema(names)
    # A grammar-constrained decoder can enforce a schema fitted to the request (ids, earlier-only references,
    # per-task arguments, the request's own files, and the task types its words name as fixed steps, see
    # graph.skeleton; else types from the nearest examples); API providers get the portable schema.
    examples = nearest_demos(request, registry, demo_pool)
    tight, steps = (
        constrained_schema(request, registry, examples, MAX_TASKS)
        if isinstance(llm, EmbeddedChatModel)
        else (None, [])
    )
    prompt = PlanPrompt(request, registry, examples, trim_history(history, context.history_tokens))
    window = window_of(llm, context.controller_context_tokens)
    repair: list[BaseMessage] = []  # the last rejected reply and why
    errors: list[str] = []
    attempts = 0
    fallback: tuple[list[Task], list[str]] | None = None  # the valid plan leaving the fewest files unused
    for attempts in range(1, context.max_plan_retries + 2):
        try:
            messages = await fitted(prompt, window, repair)
        except PromptTooLongError as error:
            return [], attempts, str(error)
        try:
            reply = await ask(llm, schema, messages, json_schema=tight, cache=cache)
        except Exception as error:  # noqa: BLE001 - a failed controller call becomes the run's plan_error
            logger.warning("planning call failed: %s", error)
            return (
                [],
                attempts,
                f"the controller could not be reached or failed: {type(error).__name__}: {error}",
            )
        if reply.parsed is not None:
            try:
                proposed = plan_tasks(reply.parsed)
                if tight is not None:  # a small model: link invented text to the output the request names
                    proposed = fix_modalities(request, link_referents(request, proposed, registry), registry)
                    proposed = restore_long_text(request, proposed, registry)
                    proposed = drop_unfit_steps(request, proposed, registry) or proposed
                    fixed = len(steps)  # the skeleton's steps form a chain; free steps keep their files
                    proposed = with_dependencies([*link_chain(proposed[:fixed], registry), *proposed[fixed:]])
                tasks = validate_plan(proposed, registry)
            except PlanValidationError as error:
                errors = error.errors
            else:
                errors = [] if steps else unused_files(request, tasks)  # fixed steps: retrying cannot add one
                if not errors:
                    return tasks, attempts, None
                if fallback is None or len(errors) < len(fallback[1]):
                    fallback = (tasks, errors)
        else:
            errors = [reply.error or "the reply could not be parsed"]
        logger.info("plan attempt %d rejected: %s", attempts, "; ".join(errors))
        repair = [
            AIMessage(reply.raw_text or "(no reply)"),
            HumanMessage(render("plan_repair", errors="\n".join(f"- {e}" for e in errors))),
        ]
    if fallback is not None:
        logger.warning("plan kept although %s", "; ".join(fallback[1]))
        return fallback[0], attempts, None
    return [], attempts, f"no valid plan after {attempts} attempt(s): " + "; ".join(errors)


async def fitted(prompt: PlanPrompt, window: PromptWindow, tail: Sequence[BaseMessage]) -> list[BaseMessage]:
    """Return the prompt fitted to the controller's window; counting in its own tokens runs in a thread."""
    if window.exact:
        return await asyncio.to_thread(fit_prompt, prompt, window, tail)
    return fit_prompt(prompt, window, tail)


def unused_files(request: str, tasks: Sequence[Task]) -> list[str]:
    """Return one message per file the request names that no task takes as an argument."""
    used = {value.strip() for task in tasks for value in task["args"].values()}
    named = [path for paths in named_files(request).values() for path in paths]
    return [f"the request names {path}, but no task uses it" for path in named if path not in used]
