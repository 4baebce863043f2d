"""The runner contract: how a model is loaded and how one task call runs on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tools.artifacts import Workspace
from tools.models import ModelCard


@dataclass(frozen=True)
class LoadOptions:
    """Where and how a local model is placed.

    Attributes:
        device: ``cpu``, ``cuda``, ``cuda:1`` ...
        dtype: ``float32``, ``float16`` or ``bfloat16`` (fp16/bf16 only make sense on a GPU).
    """

    device: str = "cpu"
    dtype: str = "float32"


@dataclass(frozen=True)
class Call:
    """One task call: resolved arguments and where its files go.

    Attributes:
        args: argument name -> value; files are paths (strings), text is text.
        workspace: the run's workspace.
        stem: a readable prefix for produced files, e.g. ``task3-text-to-speech``.
        options: the model card's runner options.
    """

    args: dict[str, str]
    workspace: Workspace
    stem: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskOutput:
    """What a task produced. Files are paths inside the workspace.

    Attributes:
        text: the text output, or a one-line text rendering of structured output (labels, boxes).
        image: path of a produced image.
        audio: path of a produced audio file.
        video: path of a produced video file.
        data: structured, JSON-serialisable details (labels, scores, boxes, ...).
    """

    text: str | None = None
    image: str | None = None
    audio: str | None = None
    video: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


Loader = Callable[[ModelCard, LoadOptions], Any]
Infer = Callable[[Any, Call], TaskOutput]


@dataclass(frozen=True)
class Runner:
    """Loads a model once (`load`), then serves calls on it (`run`: preprocess, forward, postprocess).

    Attributes:
        name: the registry key, e.g. ``transformers/image-classification``.
        load: card + options -> a loaded model object (run off the event loop, cached by the backend).
        run: loaded model + call -> output (blocking; run off the event loop).
    """

    name: str
    load: Loader
    run: Infer
