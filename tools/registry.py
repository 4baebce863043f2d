"""The task-type registry: every Hugging Face task the planner may use, with its argument modalities.

A new task type is one `TaskSpec` entry here plus one runner in `tools/runners/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Modality(StrEnum):
    """The kind of data an argument takes or a task produces."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"


FILE_SUFFIXES: Final = MappingProxyType(
    {
        Modality.IMAGE: (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"),
        Modality.AUDIO: (".wav", ".flac", ".mp3", ".ogg", ".m4a"),
        Modality.VIDEO: (".mp4", ".avi", ".mov", ".mkv", ".webm"),
    }
)


@dataclass(frozen=True)
class TaskSpec:
    """What one task type takes and gives.

    Attributes:
        name: the Hugging Face task name, e.g. ``image-classification``.
        description: one line for the planner prompt.
        args: argument name -> modality, in the order the runner expects them.
        outputs: the modalities this task produces; ``<GENERATED>-N`` picks the one its consumer needs.
        optional_args: argument names that may be left out.
        default_runner: the runner used for catalog models that name none.
    """

    name: str
    description: str
    args: dict[str, Modality]
    outputs: tuple[Modality, ...]
    optional_args: frozenset[str] = field(default_factory=frozenset)
    default_runner: str = ""

    @property
    def required_args(self) -> list[str]:
        """Return the argument names a plan must fill."""
        return [name for name in self.args if name not in self.optional_args]


def _spec(
    name: str,
    description: str,
    args: dict[str, Modality],
    outputs: tuple[Modality, ...],
    optional: tuple[str, ...] = (),
) -> TaskSpec:
    return TaskSpec(
        name, description, args, outputs, frozenset(optional), default_runner=f"transformers/{name}"
    )


TEXT, IMAGE, AUDIO = Modality.TEXT, Modality.IMAGE, Modality.AUDIO

_SPECS: Final = (
    _spec("image-classification", "name what an image shows (labels with scores)", {"image": IMAGE}, (TEXT,)),
    _spec("image-to-text", "write a caption for an image", {"image": IMAGE}, (TEXT,)),
    _spec(
        "object-detection",
        "find objects in an image: labels, scores, boxes, and a copy of the image with the boxes drawn",
        {"image": IMAGE},
        (IMAGE, TEXT),
    ),
    _spec(
        "visual-question-answering",
        "answer a question (text) about an image",
        {"image": IMAGE, "text": TEXT},
        (TEXT,),
    ),
    _spec("text-to-image", "generate an image from a text prompt", {"text": TEXT}, (IMAGE,)),
    _spec("text-to-speech", "read a text aloud into an audio file", {"text": TEXT}, (AUDIO,)),
    _spec(
        "automatic-speech-recognition",
        "transcribe speech in an audio file to text",
        {"audio": AUDIO},
        (TEXT,),
    ),
    _spec("summarization", "shorten a text, keeping what matters", {"text": TEXT}, (TEXT,)),
    _spec(
        "translation",
        "translate a text; `target` names the language (default English)",
        {"text": TEXT, "target": TEXT},
        (TEXT,),
        optional=("target",),
    ),
    _spec(
        "question-answering",
        "answer a question (text) from a passage (context)",
        {"text": TEXT, "context": TEXT},
        (TEXT,),
    ),
    _spec("text-generation", "continue or answer a text prompt", {"text": TEXT}, (TEXT,)),
    _spec("sentence-similarity", "score how similar two texts are", {"text": TEXT, "other": TEXT}, (TEXT,)),
)

TASKS: Final = MappingProxyType({spec.name: spec for spec in _SPECS})
"""Task name -> spec. The planner's schema and the validator read their task names from here."""


def get_task(name: str) -> TaskSpec:
    """Return the spec of a task type.

    Args:
        name: a task name such as ``summarization``.

    Returns:
        The registered spec.

    Raises:
        KeyError: with the known names, when the task is not registered.
    """
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task type {name!r}; known: {', '.join(sorted(TASKS))}") from None


def modality_of_literal(value: str) -> Modality:
    """Guess the modality of a literal argument from its file suffix (anything else is text).

    Args:
        value: an argument value from a plan, e.g. ``photos/cat.png`` or ``hello``.

    Returns:
        IMAGE, AUDIO or VIDEO for a path or URL with a known suffix, TEXT otherwise.
    """
    lowered = value.strip().lower().split("?", 1)[0]
    if "\n" not in lowered and " " not in lowered:
        for modality, suffixes in FILE_SUFFIXES.items():
            if lowered.endswith(suffixes):
                return modality
    return Modality.TEXT
