"""The task types a small planner may choose from: what a request's words and nearest examples point at.

A 135M-parameter planner offered every task type copies a demo's shape and ignores the tools the user names.
The constrained schema can offer it fewer: the types the nearest demos' plans use (a retrieved plan is the
best single guess, measured) plus the types the request names outright ("transcribe", "caption", "depth").
The model then edits that starting point rather than writing a plan from nothing. Which files the request
names is enforced by the schema itself (`graph.grammar`): an image task cannot take a ``.wav`` file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from graph.cues import CUES
from tools.registry import TaskSpec

EXTRA_CUES: Final = {
    "automatic-speech-recognition": (r"\bspeech to text\b", r"\bwhat is said\b", r"\bspoken\b"),
    "text-to-speech": (r"\b(into|to) (natural(ly)?[- ]sounding )?(speech|audio|voice)\b", r"\bnarrat\w*"),
    "token-classification": (r"\bentity\b", r"\bpart[- ]of[- ]speech\b"),
    "image-classification": (r"\bclassif\w* (the |this )?(image|photo|picture)\b", r"\bcategor\w*"),
    "image-to-text": (r"\bdescri\w* (the |this )?(image|photo|picture)\b", r"\bextract (the )?text\b"),
    "visual-question-answering": (r"\b(what|how many|which)\b[^.?!]*\b(image|photo|picture)\b",),
    "document-question-answering": (r"\bdocument\b",),
    "question-answering": (r"\bquestion\b",),
    "sentence-similarity": (r"\bsimilar\w*",),
    "tabular-classification": (r"\btable\b", r"\btabular\b"),
    "text-generation": (r"\bwrite\b", r"\bdraft\b", r"\bgenerate (a |some )?text\b"),
    "conversational": (r"\bconversation\w*", r"\bchat\w*", r"\brespon\w*"),
    "audio-classification": (r"\bemotion\w*", r"\bclassif\w* (the |this )?(audio|sound)\b"),
    "audio-to-audio": (r"\benhanc\w* (the |this )?(audio|sound|recording)\b", r"\bnoise\b"),
    "image-to-image": (r"\btransform (the |this )?(image|photo|picture)\b", r"\bstyle\b"),
    "object-detection": (r"\bidentify (the |these |all |different )?objects\b",),
}
"""More task-naming phrases than `graph.cues` (those name a type outright; these are TaskBench's wordings)."""

_COMPILED: Final = tuple(
    (task, re.compile(pattern, re.IGNORECASE))
    for table in (CUES, EXTRA_CUES)
    for task, patterns in table.items()
    for pattern in patterns
)


def cue_positions(request: str) -> dict[str, int]:
    """Return each task type the request's words point at -> where its first cue starts, in that order."""
    first: dict[str, int] = {}
    for task, pattern in _COMPILED:
        match = pattern.search(request)
        if match and match.start() < first.get(task, len(request) + 1):
            first[task] = match.start()
    return dict(sorted(first.items(), key=lambda item: item[1]))


def cued_task_types(request: str) -> list[str]:
    """Return the task types the request's words point at (`graph.cues`, `EXTRA_CUES`), in mention order."""
    return list(cue_positions(request))


def candidate_registry(
    request: str, registry: Mapping[str, TaskSpec], examples: Sequence[Mapping[str, Any]]
) -> dict[str, TaskSpec]:
    """Return the part of ``registry`` a small planner may use for ``request``.

    Args:
        request: the user's request.
        registry: the task types on offer.
        examples: the demos retrieved for the request (``[{"request", "plan"}]``).

    Returns:
        The types the examples' plans use and those the request's words point at, in ``registry``'s order;
        the whole ``registry`` when that leaves nothing.
    """
    wanted = {str(task["task"]) for example in examples for task in example["plan"]}
    wanted.update(cued_task_types(request))
    chosen = {name: spec for name, spec in registry.items() if name in wanted}
    return chosen or dict(registry)
