"""A plan schema fitted to one request, for grammar-constrained decoders (the embedded controller).

The portable schema (`graph.plan.plan_schema`) only bounds a plan's shape. A llama.cpp grammar can do more,
and a 135M-parameter planner needs it: here step k has ``id`` k, each task type takes exactly its own
arguments, and a file argument is one of the files the request names (of the argument's modality) or
``<GENERATED>-j`` of an earlier step. Plans that break those rules cannot be written.

There is no ``dep``: it restates the ``<GENERATED>-j`` references, and small models get the two out of step
(measured: the most common rejection). `with_dependencies` derives it from the references instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tools.registry import Modality, TaskSpec, modality_of_literal

MAX_TEXT_CHARS = 300
"""Longest text argument in a constrained plan (bounds what a small model could repeat forever)."""

_REFERENCE = re.compile(r"<GENERATED>-(\d+)")
_TOKEN = re.compile(r"""[^\s'"`()<>\[\]{},;]+""")


def named_files(request: str) -> dict[Modality, list[str]]:
    """Return the file paths a request names, by modality, in order of appearance.

    Args:
        request: the user's request.

    Returns:
        Modality -> paths (image, audio and video only; each path once).
    """
    found: dict[Modality, list[str]] = {}
    for path, modality in mentioned_files(request):
        found.setdefault(modality, []).append(path)
    return found


def mentioned_files(request: str) -> list[tuple[str, Modality]]:
    """Return the image, audio and video paths a request names, each once, in order of mention."""
    found: list[tuple[str, Modality]] = []
    for token in _TOKEN.findall(request):
        path = token.rstrip(".?!:")
        modality = modality_of_literal(path)
        if modality is not Modality.TEXT and all(path != seen for seen, _ in found):
            found.append((path, modality))
    return found


def clause_count(request: str) -> int:
    """Return how many clauses a request has (sentences, split again at "and", "then", "also").

    A plan for the request needs at most about one task per clause; the constrained schema uses this as its
    length bound, so that a small model does not pad the plan with tasks copied from the demos.
    """
    pieces = re.split(r"[.?!;](?:\s|$)|,?\s+(?:and|then|also|plus)\s+", request.strip(), flags=re.IGNORECASE)
    return max(1, sum(1 for piece in pieces if re.search(r"\w", piece)))


def request_plan_schema(request: str, registry: Mapping[str, TaskSpec], max_tasks: int) -> dict[str, Any]:
    """Return a JSON schema whose only valid documents are well-formed plans for ``request``.

    Args:
        request: the user's request (its file names become the only file arguments).
        registry: the task types.
        max_tasks: most tasks in a plan (lowered to the request's `clause_count`).

    Returns:
        A JSON schema ``{"tasks": [step_0, ..., step_n]}`` with one ``$defs`` entry per step position.
    """
    files = named_files(request)
    mentioned = mentioned_files(request)
    max_tasks = min(max_tasks, max(clause_count(request), len(mentioned)))
    defs = {
        f"step{k}": step_schema(k, registry, files, mentioned[k] if k < len(mentioned) else None)
        for k in range(max_tasks)
    }
    usable = [k for k in range(max_tasks) if defs[f"step{k}"]["anyOf"]]
    lengths = [n for n in range(1, max_tasks + 1) if all(k in usable for k in range(n))]
    plans = [
        {
            "type": "array",
            "prefixItems": [{"$ref": f"#/$defs/step{k}"} for k in range(n)],
            "items": False,
            "minItems": n,
            "maxItems": n,
        }
        for n in lengths
    ]
    return {
        "type": "object",
        "properties": {"tasks": {"anyOf": plans}},
        "required": ["tasks"],
        "additionalProperties": False,
        "$defs": defs,
    }


def with_dependencies(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the tasks with ``dep`` set to the steps their ``<GENERATED>-j`` arguments use ([-1]: none).

    Args:
        tasks: tasks decoded with `request_plan_schema` (no ``dep``).

    Returns:
        New task dicts.
    """
    out = []
    for task in tasks:
        refs = sorted({int(n) for value in task["args"].values() for n in _REFERENCE.findall(str(value))})
        out.append({**task, "dep": refs or [-1]})
    return out


def step_schema(
    position: int,
    registry: Mapping[str, TaskSpec],
    files: Mapping[Modality, list[str]],
    first_use: tuple[str, Modality] | None,
) -> dict[str, Any]:
    """Return the schema of the plan's step ``position``: one alternative per task type that can run there.

    Args:
        position: the step's id.
        registry: the task types it may have.
        files: the request's files by modality.
        first_use: the file this step must take (None: any). Step k takes the k-th file the request
            mentions, so that no named file is left out (a small model otherwise drops whole clauses).

    Returns:
        ``{"anyOf": [one object schema per task type]}`` (empty when none can run there).
    """
    earlier = [f"<GENERATED>-{j}" for j in range(position)]
    variants = []
    for spec in registry.values():
        if first_use is None:
            args = _arguments(spec, files, earlier)
        else:
            path, modality = first_use
            args = (
                _arguments(spec, {modality: [path]}, [], only=modality)
                if modality in spec.args.values()
                else None
            )
        if args is None:
            continue
        variants.append(
            {
                "type": "object",
                "properties": {
                    "id": {"const": position},
                    "task": {"const": spec.name},
                    "args": args,
                },
                "required": ["id", "task", "args"],
                "additionalProperties": False,
            }
        )
    return {"anyOf": variants}


def _arguments(
    spec: TaskSpec,
    files: Mapping[Modality, list[str]],
    earlier: list[str],
    only: Modality | None = None,
) -> dict[str, Any] | None:
    """Return the schema of ``spec``'s arguments; None when a required file argument has no value.

    With ``only``, file arguments of other modalities are left out (or make the task impossible).
    """
    properties: dict[str, Any] = {}
    for name, modality in spec.args.items():
        if modality is Modality.TEXT:
            properties[name] = {"type": "string", "maxLength": MAX_TEXT_CHARS}
            continue
        choices = [*files.get(modality, []), *earlier] if only in (None, modality) else []
        if not choices:
            if name in spec.optional_args:
                continue
            return None
        properties[name] = {"enum": choices}
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in spec.optional_args],
        "additionalProperties": False,
    }
