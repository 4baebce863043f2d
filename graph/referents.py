"""Link a task's invented text to the earlier output the request refers to ("read the transcript aloud").

A small planner often fills a text argument with a sentence of its own ("The animal is a cat") where the
request asks for an earlier task's output by name: the transcript, the summary, the caption. When such a
literal is not in the request, the request names that output, and exactly one earlier task produces it, the
argument becomes that task's ``<GENERATED>-N`` and the dependency follows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from tools.registry import Modality, TaskSpec

OUTPUT_NOUNS: Final = {
    "transcript": ("automatic-speech-recognition",),
    "transcription": ("automatic-speech-recognition",),
    "summary": ("summarization",),
    "caption": ("image-to-text",),
    "description": ("image-to-text",),
    "translation": ("translation",),
    "answer": ("question-answering", "visual-question-answering", "document-question-answering"),
}
"""Words a request uses for a task's output -> the task types that produce it."""

_REFERENCE = re.compile(r"<GENERATED>-\d+")


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def link_referents(
    request: str, tasks: Sequence[Mapping[str, Any]], registry: Mapping[str, TaskSpec]
) -> list[dict[str, Any]]:
    """Return the tasks with invented text arguments replaced by the earlier output the request names.

    Args:
        request: the user's request.
        tasks: decoded tasks (``id``, ``task``, ``args``; ``dep`` is recomputed by the caller).
        registry: the task types, for each argument's modality.

    Returns:
        New task dicts (unchanged where no rule applies).
    """
    said = _words(request)
    named = [noun for noun in OUTPUT_NOUNS if re.search(rf"\b{noun}s?\b", said)]
    out: list[dict[str, Any]] = []
    for position, task in enumerate(tasks):
        spec = registry.get(str(task.get("task")))
        args = dict(task.get("args", {}))
        for name, value in args.items():
            if spec is None or spec.args.get(name) is not Modality.TEXT or _REFERENCE.search(str(value)):
                continue
            if _words(str(value)) in said:
                continue  # the request's own words: a real literal
            source = _only_producer(tasks[:position], named)
            if source is not None:
                args[name] = f"<GENERATED>-{source}"
        out.append({**task, "args": args})
    return out


def _only_producer(earlier: Sequence[Mapping[str, Any]], nouns: Sequence[str]) -> int | None:
    """Return the id of the one earlier task making an output the request names (None: none, or several)."""
    wanted = {task_type for noun in nouns for task_type in OUTPUT_NOUNS[noun]}
    producers = [task["id"] for task in earlier if task.get("task") in wanted]
    return int(producers[0]) if len(producers) == 1 else None
