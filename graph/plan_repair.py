"""Repairs of a small planner's decoded plan that the grammar cannot prevent: wrong modalities, dead steps.

The grammar fixes ids and offers only earlier references, but when the model picks the task types it cannot
type a reference by what the earlier step makes, and a free text may name a file or a later step. These
repairs run after decoding, before validation (a retry under the same grammar repeats the mistake).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from graph.grammar import MAX_TEXT_CHARS, mentioned_files
from tools.registry import Modality, TaskSpec

_REFERENCE = re.compile(r"<GENERATED>-(\d+)")
_QUOTED = re.compile(r"'([^']{3,})'|\"([^\"]{3,})\"")


def fix_modalities(
    request: str, tasks: Sequence[Mapping[str, Any]], registry: Mapping[str, TaskSpec]
) -> list[dict[str, Any]]:
    """Return the tasks with arguments of the wrong modality moved to a value of the right one.

    A small planner writes the request's file name into a text argument ("text": "example.jpg") or points a
    file argument at an earlier step that makes something else; both fail validation, and a retry under the
    same grammar repeats them. The argument becomes the latest earlier output of its modality, else the
    request's file of that modality (a text argument: its first quoted text, else the request itself); it is
    left alone otherwise.

    Args:
        request: the user's request.
        tasks: decoded tasks (``id`` = position, ``task``, ``args``; ``dep`` is recomputed by the caller).
        registry: the task types.

    Returns:
        New task dicts.
    """
    files = {path: modality for path, modality in mentioned_files(request)}
    quoted = _QUOTED.findall(request)
    out: list[dict[str, Any]] = []
    for position, task in enumerate(tasks):
        spec = registry.get(str(task.get("task")))
        args = dict(task.get("args", {}))
        for name, value in args.items():
            wanted = spec.args.get(name) if spec is not None else None
            if wanted is None or _fits(str(value), wanted, files, tasks, registry):
                continue
            source = latest_producer(tasks[:position], wanted, registry)
            if source is not None:
                args[name] = f"<GENERATED>-{source}"
            elif wanted is Modality.TEXT:
                args[name] = next(text for text in quoted[0] if text) if quoted else request[:MAX_TEXT_CHARS]
            else:
                args[name] = next((path for path, kind in files.items() if kind is wanted), value)
        out.append({**task, "args": args})
    return out


def _fits(
    value: str,
    wanted: Modality,
    files: Mapping[str, Modality],
    tasks: Sequence[Mapping[str, Any]],
    registry: Mapping[str, TaskSpec],
) -> bool:
    """Return whether ``value`` can be an argument of modality ``wanted`` (free text fits a text argument)."""
    value = value.strip()
    if value in files:
        return files[value] is wanted
    match = _REFERENCE.fullmatch(value)
    if match and int(match.group(1)) < len(tasks):
        spec = registry.get(str(tasks[int(match.group(1))].get("task")))
        return spec is None or wanted in spec.outputs
    return True


def latest_producer(
    earlier: Sequence[Mapping[str, Any]], modality: Modality, registry: Mapping[str, TaskSpec]
) -> int | None:
    """Return the position of the last of ``earlier`` whose outputs include ``modality`` (None: none)."""
    for position in range(len(earlier) - 1, -1, -1):
        spec = registry.get(str(earlier[position].get("task")))
        if spec is not None and modality in spec.outputs:
            return position
    return None


def drop_unfit_steps(
    request: str, tasks: Sequence[Mapping[str, Any]], registry: Mapping[str, TaskSpec]
) -> list[dict[str, Any]]:
    """Return the tasks without the steps that still take an argument of the wrong modality, renumbered.

    A step whose argument refers to a dropped step, to itself or to a later step is dropped too; the
    remaining steps get ids 0, 1, ... and their references follow.

    Args:
        request: the user's request.
        tasks: tasks after `fix_modalities` (``id`` = position).
        registry: the task types.

    Returns:
        New task dicts (``dep`` is recomputed by the caller).
    """
    files = {path: modality for path, modality in mentioned_files(request)}
    new_id: dict[int, int] = {}
    kept: list[dict[str, Any]] = []
    for position, task in enumerate(tasks):
        spec = registry.get(str(task.get("task")))
        args = {name: str(value) for name, value in task.get("args", {}).items()}
        refs = [int(n) for value in args.values() for n in _REFERENCE.findall(value)]
        fits = spec is not None and all(
            spec.args.get(name) is not None and _fits(value, spec.args[name], files, tasks, registry)
            for name, value in args.items()
        )
        if not fits or any(ref >= position or ref not in new_id for ref in refs):
            continue
        new_id[position] = len(kept)
        renumbered = {
            name: _REFERENCE.sub(lambda m: f"<GENERATED>-{new_id[int(m.group(1))]}", value)
            for name, value in args.items()
        }
        kept.append({**task, "id": len(kept), "args": renumbered})
    return kept


MIN_CUT_COPY = MAX_TEXT_CHARS // 2
"""A text argument this long that is part of the passage is a cut copy of it (a short quote is not)."""


def long_passage(request: str) -> str | None:
    """Return the passage a request hands to a text task, when it is too long for the grammar to copy.

    The passage is the longest quoted text, or what follows the request's first colon ("Summarize this:
    ..."); it counts only when it is longer than `MAX_TEXT_CHARS`, the most a decoded text argument holds.
    """
    found = [first or second for first, second in _QUOTED.findall(request)]
    head, colon, rest = request.partition(":")
    if colon and not head.rstrip().lower().endswith(("http", "https")):
        found.append(rest.strip())
    passage = max(found, key=len, default="")
    return passage if len(passage) > MAX_TEXT_CHARS else None


def restore_long_text(
    request: str, tasks: Sequence[Mapping[str, Any]], registry: Mapping[str, TaskSpec]
) -> list[dict[str, Any]]:
    """Return the tasks with the request's long passage in the text arguments that were meant to carry it.

    The grammar bounds a text argument at `MAX_TEXT_CHARS`, so a small planner given a long passage writes a
    cut copy of it, or some other text (a demo's). A text argument that is a cut copy of the passage becomes
    the whole passage (a short quote from it stays); so does the only text argument of a task when its value
    is nowhere in the request.
    References to earlier outputs are left alone.

    Args:
        request: the user's request.
        tasks: decoded tasks.
        registry: the task types.

    Returns:
        New task dicts.
    """
    passage = long_passage(request)
    if passage is None:
        return [dict(task) for task in tasks]
    out: list[dict[str, Any]] = []
    for task in tasks:
        spec = registry.get(str(task.get("task")))
        args = dict(task.get("args", {}))
        texts = [name for name, kind in spec.args.items() if kind is Modality.TEXT] if spec else []
        for name in texts:
            value = str(args.get(name, "")).strip()
            if name not in args or _REFERENCE.search(value) or _whole_quote(value, request):
                continue
            cut_copy = len(value) >= MIN_CUT_COPY and value in passage and len(value) < len(passage)
            if cut_copy or (len(texts) == 1 and value not in request):
                args[name] = passage
        out.append({**task, "args": args})
    return out


def _whole_quote(value: str, request: str) -> bool:
    """Tell whether ``value`` is a whole quoted text of the request (a complete copy, not a cut one)."""
    return bool(value) and any(f"{mark}{value}{mark}" in request for mark in ("'", '"'))
