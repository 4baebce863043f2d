"""The portable plan schema: what a controller's structured output must produce (pydantic, JSON schema)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from tools.registry import TASKS, Modality, TaskSpec

MAX_TASKS = 8
"""Most tasks in one plan."""

MAX_ARGUMENT_CHARS = 1000
"""Longest argument value the planner may write (bounds what a small model could repeat forever)."""


def args_schema(registry: Mapping[str, TaskSpec]) -> type[BaseModel]:
    """Return the schema of a task's arguments: every argument name of ``registry``, each optional.

    A fixed set of named fields, rather than a free-form dict, lets grammar-constrained decoders bound the
    object and is accepted by strict JSON-schema providers. Which names a task takes is checked later by
    `validate_plan`; empty values mean "not given".

    Args:
        registry: the task types the planner may use.

    Returns:
        An ``Args`` model with one optional string field per argument name.
    """
    modalities: dict[str, Modality] = {}
    for spec in registry.values():
        for name, modality in spec.args.items():
            modalities.setdefault(name, modality)
    fields: dict[str, Any] = {
        name: (
            str,
            Field(default="", max_length=MAX_ARGUMENT_CHARS, description=_argument_help(name, modality)),
        )
        for name, modality in modalities.items()
    }
    return create_model("Args", __doc__="The task's arguments; leave out those it does not take.", **fields)


def _argument_help(name: str, modality: Modality) -> str:
    if modality is Modality.TEXT:
        return f"{name}: a text, or <GENERATED>-N for the text output of task N."
    return f"{name}: a {modality} file path from the request, or <GENERATED>-N."


def plan_schema(task_names: Sequence[str], registry: Mapping[str, TaskSpec] = TASKS) -> type[BaseModel]:
    """Return the pydantic schema of a plan whose task types are limited to ``task_names``.

    The class and field descriptions are the LLM's instructions; the task enum and the bounded ``dep`` list
    let constrained decoders (llama.cpp grammars, OpenAI json_schema) produce only well-formed plans.

    Args:
        task_names: the task types the planner may use.
        registry: where their argument names come from.

    Returns:
        A ``Plan`` model with a ``tasks`` list.
    """
    task_type: Any = Literal[tuple(task_names)]
    step = create_model(
        "PlanStep",
        __doc__="One task of the plan.",
        id=(int, Field(description="0 for the first task, then 1, 2, ...")),
        task=(task_type, Field(description="The task type.")),
        dep=(
            list[int],
            Field(
                default=[-1],
                description="Ids of earlier tasks whose outputs the args use; [-1] when none.",
                max_length=3,
            ),
        ),
        args=(
            args_schema({name: registry[name] for name in task_names}),
            Field(description="The arguments."),
        ),
    )
    return create_model(
        "Plan",
        __doc__="The task graph that answers the user's request.",
        tasks=(
            list[step],  # type: ignore[valid-type]
            Field(description="The tasks, in order.", min_length=1, max_length=MAX_TASKS),
        ),
    )


@functools.lru_cache(maxsize=32)
def registry_plan_schema(task_names: tuple[str, ...] | None = None) -> type[BaseModel]:
    """Return the plan schema over these task types, default every registered one (built once per set)."""
    return plan_schema(list(task_names if task_names is not None else TASKS))


def plan_tasks(parsed: BaseModel) -> list[dict[str, Any]]:
    """Return a parsed plan's tasks as plain dicts, without the arguments left empty."""
    tasks: list[dict[str, Any]] = parsed.model_dump()["tasks"]
    return [{**task, "args": {k: v for k, v in task["args"].items() if v.strip()}} for task in tasks]
