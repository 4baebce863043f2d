"""The plan node: request + chat history -> a validated task graph (structured output, bounded repair)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages
from langgraph.runtime import Runtime
from langgraph.types import Overwrite
from pydantic import BaseModel, Field, create_model

from graph.context import Context
from graph.prompts import demos, describe_tasks, render
from graph.resources import resources_of
from graph.state import State
from graph.structured import ask
from graph.validate import PlanValidationError, validate_plan
from tools.registry import TASKS, TaskSpec

logger = logging.getLogger(__name__)


def plan_schema(task_names: Sequence[str]) -> type[BaseModel]:
    """Return the pydantic schema of a plan whose task types are limited to ``task_names``.

    The class and field descriptions are the LLM's instructions; the task enum and the bounded ``dep`` list
    let constrained decoders (llama.cpp grammars, OpenAI json_schema) produce only well-formed plans.

    Args:
        task_names: the task types the planner may use.

    Returns:
        A ``Plan`` model with a ``tasks`` list.
    """
    step = create_model(
        "PlanStep",
        __doc__="One task of the plan.",
        id=(int, Field(description="0 for the first task, then 1, 2, ...")),
        task=(Literal[tuple(task_names)], Field(description="The task type.")),  # type: ignore[valid-type]
        dep=(
            list[int],
            Field(description="Ids of earlier tasks whose outputs the args use; [-1] when none.", max_length=3),
        ),
        args=(
            dict[str, str],
            Field(description='Argument name -> value: a literal, a file path, or "<GENERATED>-N".'),
        ),
    )
    return create_model(
        "Plan",
        __doc__="The task graph that answers the user's request.",
        tasks=(list[step], Field(description="The tasks, in order.", min_length=1, max_length=8)),  # type: ignore[valid-type]
    )


def latest_request(messages: Sequence[AnyMessage]) -> str:
    """Return the text of the last human message (empty when there is none)."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def planner_messages(
    request: str, history: Sequence[AnyMessage], registry: Mapping[str, TaskSpec], history_tokens: int
) -> list[BaseMessage]:
    """Build the planning prompt: instructions, few-shot demos, the trimmed chat history, the request.

    Args:
        request: the user's request.
        history: earlier chat turns (without the request).
        registry: the task types the planner may use.
        history_tokens: the history's token budget (older turns are dropped first).

    Returns:
        The messages for the controller.
    """
    messages: list[BaseMessage] = [SystemMessage(render("planner", tasks=describe_tasks(registry)))]
    for demo in demos():
        messages.append(HumanMessage(render("plan_request", history="", request=demo["request"])))
        messages.append(AIMessage(json.dumps({"tasks": demo["plan"]})))
    messages.extend(trim_history(history, history_tokens))
    messages.append(HumanMessage(render("plan_request", history="", request=request)))
    return messages


def trim_history(history: Sequence[AnyMessage], max_tokens: int) -> list[BaseMessage]:
    """Keep the most recent chat turns that fit ``max_tokens`` (approximate count), starting on a human turn."""
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
        "plan": None,
        "selections": Overwrite([]),
        "results": Overwrite([]),
        "answer": "",
        "plan_error": None,
    }


async def plan(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Turn the request into a validated task graph, or record why none could be made.

    A plan given in the input is validated and used as is (no LLM call). Otherwise the controller is asked,
    and an invalid plan goes back to it with the errors, at most ``max_plan_retries`` more times.

    Args:
        state: the graph state.
        runtime: carries the run's Context.

    Returns:
        The state update: ``tasks`` or ``plan_error``, ``plan_attempts``, and a fresh ``run_id``.
    """
    update = _reset(uuid.uuid4().hex[:12])
    given = state.get("plan")
    if given:
        try:
            return {**update, "tasks": validate_plan(given, TASKS), "plan_attempts": 0}
        except PlanValidationError as error:
            return {**update, "tasks": [], "plan_attempts": 0, "plan_error": f"the given plan is invalid: {error}"}
    messages = state.get("messages", [])
    request = latest_request(messages)
    if not request.strip():
        return {**update, "tasks": [], "plan_attempts": 0, "plan_error": "there is no request to plan for"}
    history = messages[: max(0, _last_human_index(messages))]
    tasks, attempts, error = await _plan_with_repair(request, history, runtime.context)
    if error:
        return {**update, "tasks": [], "plan_attempts": attempts, "plan_error": error}
    return {**update, "tasks": tasks, "plan_attempts": attempts}


def _last_human_index(messages: Sequence[AnyMessage]) -> int:
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return index
    return 0


async def _plan_with_repair(
    request: str, history: Sequence[AnyMessage], context: Context
) -> tuple[list[Any], int, str | None]:
    llm = resources_of(context).llm
    schema = plan_schema(list(TASKS))
    messages = planner_messages(request, history, TASKS, context.history_tokens)
    errors: list[str] = []
    attempts = 0
    for attempts in range(1, context.max_plan_retries + 2):
        reply = await ask(llm, schema, messages)
        if reply.parsed is not None:
            try:
                return validate_plan(reply.parsed.model_dump()["tasks"], TASKS), attempts, None
            except PlanValidationError as error:
                errors = error.errors
        else:
            errors = [reply.error or "the reply could not be parsed"]
        logger.info("plan attempt %d rejected: %s", attempts, "; ".join(errors))
        messages = [
            *messages,
            AIMessage(reply.raw_text or "(no reply)"),
            HumanMessage(render("plan_repair", errors="\n".join(f"- {e}" for e in errors))),
        ]
    return [], attempts, f"no valid plan after {attempts} attempt(s): " + "; ".join(errors)
