"""A plan's task types fixed before decoding: the types the request names, in an order that can run.

Measured on TaskBench, the types a request's words point at (`graph.candidates.cued_task_types`) are right
far more often than what a 135M-parameter planner picks, or than the nearest example's plan. So when the
request names any, they become the plan's skeleton: one step each, ordered by where the request mentions
them, but never before a step whose output they need (an image task on a text-only request waits for the
step that makes the image). The controller then only fills the arguments (`skeleton_schema`): texts, and which
named file or earlier output each file argument takes, typed by modality.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graph.candidates import candidate_registry, cued_task_types
from graph.grammar import MAX_TEXT_CHARS, mentioned_files, named_files, request_plan_schema, step_schema
from graph.plan_repair import latest_producer
from tools.registry import Modality, TaskSpec


def constrained_schema(
    request: str,
    registry: Mapping[str, TaskSpec],
    examples: Sequence[Mapping[str, Any]],
    max_tasks: int,
) -> tuple[dict[str, Any], list[str]]:
    """Return the schema a grammar-constrained planner decodes ``request`` with, and the fixed step types.

    When the request names task types that can run on its files, the plan is their `skeleton` and only the
    arguments are decoded. Otherwise the model picks the types, from those the nearest ``examples`` use and
    the request's words point at (`graph.candidates.candidate_registry`), or from all of ``registry`` when
    those cannot make a plan for the request's files.

    Args:
        request: the user's request.
        registry: the task types on offer.
        examples: the demos retrieved for the request.
        max_tasks: most steps.

    Returns:
        ``(schema, steps)``; ``steps`` is empty when the model chooses the types.
    """
    steps = skeleton(request, registry, max_tasks)
    candidates = candidate_registry(request, registry, examples)
    if steps:
        unused = _unused_files(request, [registry[name] for name in steps], registry)
        return skeleton_schema(request, registry, steps, unused, candidates), steps
    schema = request_plan_schema(request, candidates, max_tasks)
    if not schema["properties"]["tasks"]["anyOf"]:
        schema = request_plan_schema(request, registry, max_tasks)
    return schema, []


def skeleton(request: str, registry: Mapping[str, TaskSpec], max_tasks: int) -> list[str]:
    """Return the task types the request names, in an order in which each one's inputs exist.

    Args:
        request: the user's request.
        registry: the task types on offer (others are ignored).
        max_tasks: most steps.

    Returns:
        The step types (empty when the request names none that can run on its files).
    """
    available = {Modality.TEXT, *named_files(request)}
    remaining = [name for name in cued_task_types(request) if name in registry]
    steps: list[str] = []
    while remaining and len(steps) < max_tasks:
        ready = next((name for name in remaining if _needs(registry[name]) <= available), None)
        if ready is None:
            break  # the rest need an input nothing makes
        steps.append(ready)
        available.update(registry[ready].outputs)
        remaining.remove(ready)
    return steps


def _takers(registry: Mapping[str, TaskSpec], modality: Modality) -> dict[str, TaskSpec]:
    """Return the task types with an argument of ``modality``."""
    return {name: spec for name, spec in registry.items() if modality in spec.args.values()}


def _unused_files(
    request: str, specs: Sequence[TaskSpec], free_types: Mapping[str, TaskSpec]
) -> list[tuple[str, Modality]]:
    """Return the request's files of a modality no step takes and some free type could take."""
    taken = {modality for spec in specs for modality in spec.args.values()}
    takers = {modality for spec in free_types.values() for modality in spec.args.values()}
    return [(path, kind) for path, kind in mentioned_files(request) if kind not in taken and kind in takers]


def _needs(spec: TaskSpec) -> set[Modality]:
    """Return the modalities of ``spec``'s required arguments."""
    return {spec.args[name] for name in spec.required_args}


def skeleton_schema(
    request: str,
    registry: Mapping[str, TaskSpec],
    steps: Sequence[str],
    unused: Sequence[tuple[str, Modality]] = (),
    free_types: Mapping[str, TaskSpec] | None = None,
) -> dict[str, Any]:
    """Return a JSON schema for a plan with ``steps`` as its first task types, the arguments left open.

    Each file in ``unused`` (named by the request, taken by no step's type) gets one more step after them,
    whose type the model picks from those of ``free_types`` that take it (else of ``registry``).

    A file argument of modality m takes a file of modality m the request names, or ``<GENERATED>-j`` of an
    earlier step j that makes m; a text argument is free text or the output of an earlier text step.

    Args:
        request: the user's request (its file names are the only file values).
        registry: the task types.
        steps: the task type of each step, as `skeleton` returns them.
        unused: the files no step can take, each with its modality.
        free_types: the types the model may pick for those (default: ``registry``).

    Returns:
        A JSON schema ``{"tasks": [step_0, ..., step_n]}``.
    """
    files = named_files(request)
    free_types = registry if free_types is None else free_types
    outputs = [registry[name].outputs for name in steps]
    items = [_step(k, registry[name], files, outputs[:k]) for k, name in enumerate(steps)]
    for offset, used in enumerate(unused):
        types = _takers(free_types, used[1]) or _takers(registry, used[1])
        items.append(step_schema(len(steps) + offset, types, files, used))
    return {
        "type": "object",
        "properties": {
            "tasks": {
                "type": "array",
                "prefixItems": items,
                "items": False,
                "minItems": len(items),
                "maxItems": len(items),
            }
        },
        "required": ["tasks"],
        "additionalProperties": False,
    }


def _step(
    position: int,
    spec: TaskSpec,
    files: Mapping[Modality, list[str]],
    earlier_outputs: Sequence[Sequence[Modality]],
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, modality in spec.args.items():
        refs = [f"<GENERATED>-{j}" for j, outputs in enumerate(earlier_outputs) if modality in outputs]
        if modality is Modality.TEXT:
            text = {"type": "string", "maxLength": MAX_TEXT_CHARS}
            properties[name] = {"anyOf": [{"enum": refs}, text]} if refs else text
            continue
        choices = [*files.get(modality, []), *refs]
        if choices:
            properties[name] = {"enum": choices}
    return {
        "type": "object",
        "properties": {
            "id": {"const": position},
            "task": {"const": spec.name},
            "args": {
                "type": "object",
                "properties": properties,
                "required": [name for name in properties if name not in spec.optional_args],
                "additionalProperties": False,
            },
        },
        "required": ["id", "task", "args"],
        "additionalProperties": False,
    }


def link_chain(tasks: Sequence[Mapping[str, Any]], registry: Mapping[str, TaskSpec]) -> list[dict[str, Any]]:
    """Return the tasks with each later step that uses no earlier output linked to the latest one it can take.

    TaskBench's multi-step requests are chains far more often than independent tasks (measured: links rise,
    node scores are untouched). A step after the first whose arguments reference no earlier step gets, in its
    first argument whose modality an earlier step makes, that latest such step's ``<GENERATED>-j``.

    Args:
        tasks: decoded tasks (``id`` = position, ``task``, ``args``).
        registry: the task types, for argument modalities and outputs.

    Returns:
        New task dicts (``dep`` is recomputed by the caller).
    """
    out: list[dict[str, Any]] = []
    for position, task in enumerate(tasks):
        args = dict(task.get("args", {}))
        spec = registry.get(str(task.get("task")))
        if spec is not None and position > 0 and not any("<GENERATED>-" in str(v) for v in args.values()):
            for name, modality in spec.args.items():
                source = latest_producer(tasks[:position], modality, registry)
                if source is not None:
                    args[name] = f"<GENERATED>-{source}"
                    break
        out.append({**task, "args": args})
    return out
