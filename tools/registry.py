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
    TABLE = "table"


FILE_SUFFIXES: Final = MappingProxyType(
    {
        Modality.IMAGE: (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"),
        Modality.AUDIO: (".wav", ".flac", ".mp3", ".ogg", ".m4a"),
        Modality.VIDEO: (".mp4", ".avi", ".mov", ".mkv", ".webm"),
        Modality.TABLE: (".csv", ".tsv"),
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
    runner: str = "",
) -> TaskSpec:
    return TaskSpec(
        name, description, args, outputs, frozenset(optional), default_runner=runner or f"transformers/{name}"
    )


TEXT, IMAGE, AUDIO, VIDEO, TABLE = (
    Modality.TEXT,
    Modality.IMAGE,
    Modality.AUDIO,
    Modality.VIDEO,
    Modality.TABLE,
)

CONTROL_KINDS: Final = {
    "canny": "Canny edges",
    "depth": "a depth map",
    "hed": "soft HED boundaries",
    "mlsd": "straight line segments (M-LSD)",
    "normal": "a surface-normal map",
    "openpose": "a human pose skeleton (OpenPose)",
    "scribble": "a scribble (rough strokes)",
    "seg": "a semantic segmentation map",
}
"""ControlNet condition kinds: each has an annotator `<kind>-control`, a generator `<kind>-text-to-image`."""

_ANNOTATOR_RUNNERS: Final = {
    "canny": "opencv/canny-control",
    "scribble": "opencv/scribble-control",
    "openpose": "mediapipe/openpose-control",
}
"""Annotators that are algorithms or packaged models rather than transformers models."""

_SPECS: Final = (
    # text
    _spec("text-classification", "label a text (sentiment, topic ...) with scores", {"text": TEXT}, (TEXT,)),
    _spec(
        "token-classification",
        "tag the words of a text: named entities (people, places, organisations) or parts of speech",
        {"text": TEXT},
        (TEXT,),
    ),
    _spec(
        "zero-shot-classification",
        "pick which of the given labels (comma-separated) fits a text best",
        {"text": TEXT, "labels": TEXT},
        (TEXT,),
    ),
    _spec("fill-mask", "fill in the masked word ([MASK] or <mask>) of a sentence", {"text": TEXT}, (TEXT,)),
    _spec(
        "text2text-generation",
        "rewrite or answer a text with a sequence-to-sequence model",
        {"text": TEXT},
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
    _spec(
        "table-question-answering",
        "answer a question (text) from a table (a .csv file)",
        {"text": TEXT, "table": TABLE},
        (TEXT,),
    ),
    _spec("conversational", "reply to a message in the conversation so far (chat)", {"text": TEXT}, (TEXT,)),
    _spec("text-generation", "continue or answer a text prompt", {"text": TEXT}, (TEXT,)),
    _spec("sentence-similarity", "score how similar two texts are", {"text": TEXT, "other": TEXT}, (TEXT,)),
    _spec(
        "tabular-classification",
        "predict a class for each row of a table (a .csv file)",
        {"table": TABLE},
        (TEXT,),
        runner="sklearn/tabular-classification",  # the Hub's tabular models are scikit-learn pipelines
    ),
    # vision
    _spec("image-classification", "name what an image shows (labels with scores)", {"image": IMAGE}, (TEXT,)),
    _spec(
        "zero-shot-image-classification",
        "pick which of the given labels (comma-separated) fits an image best",
        {"image": IMAGE, "labels": TEXT},
        (TEXT,),
    ),
    _spec(
        "object-detection",
        "find objects in an image: labels, scores, boxes, and a copy of the image with the boxes drawn",
        {"image": IMAGE},
        (IMAGE, TEXT),
    ),
    _spec(
        "image-segmentation",
        "split an image into labelled regions: their masks drawn over the image, and the labels",
        {"image": IMAGE},
        (IMAGE, TEXT),
    ),
    _spec(
        "depth-estimation",
        "estimate how far each pixel of an image is, drawn as a depth image",
        {"image": IMAGE},
        (IMAGE,),
    ),
    _spec("image-to-text", "write a caption for an image", {"image": IMAGE}, (TEXT,)),
    _spec(
        "visual-question-answering",
        "answer a question (text) about an image",
        {"image": IMAGE, "text": TEXT},
        (TEXT,),
    ),
    _spec(
        "document-question-answering",
        "answer a question (text) about a document image (a scan, a receipt, a form): reads its words first",
        {"image": IMAGE, "text": TEXT},
        (TEXT,),
    ),
    _spec("text-to-image", "generate an image from a text prompt", {"text": TEXT}, (IMAGE,)),
    _spec(
        "image-to-image",
        "redraw an image guided by a text prompt (style, variations), keeping its layout",
        {"image": IMAGE, "text": TEXT},
        (IMAGE,),
        optional=("text",),
    ),
    _spec(
        "image-editing",
        "edit an image as an instruction says (e.g. 'make it snow')",
        {"image": IMAGE, "text": TEXT},
        (IMAGE,),
    ),
    _spec("text-to-video", "generate a short video clip from a text prompt", {"text": TEXT}, (VIDEO,)),
    # audio
    _spec("text-to-speech", "read a text aloud into an audio file", {"text": TEXT}, (AUDIO,)),
    _spec(
        "automatic-speech-recognition",
        "transcribe speech in an audio file to text",
        {"audio": AUDIO},
        (TEXT,),
    ),
    _spec(
        "audio-classification",
        "name what an audio clip contains (labels with scores)",
        {"audio": AUDIO},
        (TEXT,),
    ),
    _spec(
        "audio-to-audio",
        "transform an audio clip into another (enhance speech, remove noise, separate sources)",
        {"audio": AUDIO},
        (AUDIO,),
    ),
    # ControlNet, as in JARVIS: annotators draw a condition image; generators draw from it and a prompt
    *(
        _spec(
            f"{kind}-control",
            f"draw {what} of an image, as a ControlNet condition",
            {"image": IMAGE},
            (IMAGE,),
            runner=_ANNOTATOR_RUNNERS.get(kind, ""),
        )
        for kind, what in CONTROL_KINDS.items()
    ),
    *(
        _spec(
            f"{kind}-text-to-image",
            f"generate an image from a prompt (text) that follows a {kind} condition image ({kind}-control)",
            {"image": IMAGE, "text": TEXT},
            (IMAGE,),
        )
        for kind in CONTROL_KINDS
    ),
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
