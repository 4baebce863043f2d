"""Task types a request names outright ("transcribe", "detect", "caption"), to tell a user what cannot run.

The planner is offered only the task types with a model that can run now, so a request that needs another one
cannot be planned as asked. These cues find such a type in the request's words, so that the answer names it
and says how to get a model for it, rather than silently doing something else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

CUES: Final = {
    "automatic-speech-recognition": (r"\btranscri\w*",),
    "text-to-speech": (r"\baloud\b", r"\bread (it|this|that|them) out\b", r"\bspeak\b", r"\bvoice ?over\b"),
    "summarization": (r"\bsummar\w*",),
    "translation": (r"\btranslat\w*",),
    "token-classification": (r"\bnamed entit\w*", r"\bentities\b"),
    "fill-mask": (r"\[MASK\]", r"<mask>"),
    "text-classification": (r"\bsentiment\b",),
    "object-detection": (r"\bdetect\w*", r"\bbounding box\w*", r"\bobjects? (are )?in\b"),
    "image-to-text": (r"\bcaption\w*",),
    "image-segmentation": (r"\bsegment\w*",),
    "depth-estimation": (r"\bdepth\b",),
    "document-question-answering": (r"\breceipt\b", r"\binvoice\b", r"\bscanned\b"),
    "text-to-image": (r"\b(draw|paint|sketch)\b", r"\bgenerate (an? )?(image|picture|photo)\b"),
    "image-editing": (r"\bedit (the |this )?(image|photo|picture)\b",),
    "text-to-video": (r"\bvideo\b", r"\banimation\b"),
    "audio-classification": (r"\bwhat sounds?\b",),
}
"""Task type -> patterns (case-insensitive) that name it outright. Deliberately few: a miss costs nothing."""

_COMPILED: Final = {
    task: tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns) for task, patterns in CUES.items()
}


def named_task_types(request: str) -> list[str]:
    """Return the task types the request names outright, in the order of `CUES`."""
    return [task for task, patterns in _COMPILED.items() if any(p.search(request) for p in patterns)]


def unavailable_task_types(request: str, runnable: Iterable[str]) -> list[str]:
    """Return the task types the request names that no model here can run now."""
    can_run = set(runnable)
    return [task for task in named_task_types(request) if task not in can_run]


def unavailable_note(task_types: Iterable[str]) -> str:
    """Return the answer's line about task types asked for that cannot run here (empty when none)."""
    names = list(task_types)
    if not names:
        return ""
    listed = ", ".join(names)
    return (
        f"Not available here: {listed}. The request asks for it, but no model for it can run on this machine "
        f"now; `hugginggpt models --task {names[0]}` shows its models and how to get one (or use "
        "`--inference-mode hybrid` with HF_TOKEN)."
    )
