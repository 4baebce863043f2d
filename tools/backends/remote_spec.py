"""How a task type becomes an `InferenceClient` call: the `RemoteTask` record and its steps' helpers.

A remote task has two blocking steps, both run off the event loop: ``prepare`` reads the call's files and
options into the keyword arguments of one ``InferenceClient`` method, and ``finish`` turns that method's
answer into the same `TaskOutput` a local runner gives (writing files into the workspace).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.artifacts import InputError
from tools.runners.base import Call, TaskOutput
from tools.runners.drawing import scored

Prepare = Callable[[Call], dict[str, Any]]
Finish = Callable[[Call, Any], TaskOutput]


@dataclass(frozen=True)
class RemoteTask:
    """One task type on the Inference API.

    Attributes:
        method: the ``InferenceClient`` method, e.g. ``text_classification``.
        prepare: call -> that method's keyword arguments, except ``model`` (reads files; raises
            `InputError` for a bad input).
        finish: call + the method's answer -> the task's output (writes files).
    """

    method: str
    prepare: Prepare
    finish: Finish

    @property
    def api_task(self) -> str:
        """Return the Inference API's name of the method's task (what providers list), e.g. ``fill-mask``."""
        return "conversational" if self.method == "chat_completion" else self.method.replace("_", "-")


def options_of(call: Call, names: Iterable[str]) -> dict[str, Any]:
    """Return the card options among ``names`` that the call has, as keyword arguments.

    Args:
        call: the call, for its options.
        names: option names that are also keyword arguments of the client method.

    Returns:
        name -> value for each option set.
    """
    return {name: call.options[name] for name in names if call.options.get(name) is not None}


def input_path(call: Call, name: str) -> Path:
    """Return the input file in argument ``name`` (the client names its content type by its suffix).

    Raises:
        InputError: when the file is missing or outside what the run may read.
    """
    return call.workspace.resolve(call.args[name])


def image_path(call: Call, name: str = "image") -> Path:
    """Return the input image in argument ``name``, checked to be a readable image first.

    Raises:
        InputError: when the file is missing or not an image.
    """
    call.workspace.load_image(call.args[name])
    return input_path(call, name)


def label_list(call: Call, name: str = "labels") -> list[str]:
    """Return the comma-separated labels of argument ``name``.

    Raises:
        InputError: when no label is given.
    """
    labels = [label.strip() for label in call.args.get(name, "").split(",") if label.strip()]
    if not labels:
        raise InputError(f"argument {name!r} needs at least one label (comma-separated)")
    return labels


def read_table(call: Call, name: str = "table") -> dict[str, list[str]]:
    """Read a .csv (or .tsv) input into the ``{column: [values]}`` mapping the Inference API takes.

    Raises:
        InputError: when the file is missing, empty or not a table.
    """
    path = call.workspace.resolve(call.args[name])
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"not a readable table: {call.args[name]} ({error})") from error
    if len(rows) < 2 or not rows[0]:
        raise InputError(f"table {call.args[name]} needs a header row and at least one data row")
    header, body = rows[0], rows[1:]
    if any(len(row) != len(header) for row in body):
        raise InputError(f"table {call.args[name]}: every row must have {len(header)} cells")
    return {column: [row[index] for row in body] for index, column in enumerate(header)}


def field(item: Any, name: str, default: Any = None) -> Any:
    """Return ``name`` of an answer element (a generated dataclass, or a plain dict)."""
    if isinstance(item, dict):
        return item.get(name, default)
    return getattr(item, name, default)


def as_list(answer: Any) -> list[Any]:
    """Return the answer as a list (the API answers some tasks with one element or a list of them)."""
    return list(answer) if isinstance(answer, list | tuple) else [answer]


def labels_output(_call: Call, answer: Any) -> TaskOutput:
    """Render ``{label, score}`` elements, best first, as the classification runners do.

    Args:
        _call: the call (unused).
        answer: the client's list of elements with ``label`` and ``score``.

    Returns:
        ``text`` like ``cat (0.91), dog (0.05)``; ``data["labels"]`` the list of ``{label, score}``.
    """
    pairs = [(str(field(item, "label")), float(field(item, "score", 0.0))) for item in as_list(answer)]
    pairs.sort(key=lambda pair: -pair[1])
    return TaskOutput(
        text=scored(pairs), data={"labels": [{"label": label, "score": score} for label, score in pairs]}
    )


def sniff_suffix(data: bytes, default: str) -> str:
    """Return the file suffix that the bytes' signature names (audio and video formats), or ``default``.

    Args:
        data: a file's first bytes at least.
        default: the suffix when no signature matches.

    Returns:
        A suffix with its dot, e.g. ``.wav``.
    """
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return ".wav"
    if data[:4] == b"fLaC":
        return ".flac"
    if data[:4] == b"OggS":
        return ".ogg"
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return ".mp3"
    if data[4:8] == b"ftyp":
        return ".m4a" if data[8:11] == b"M4A" else ".mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return ".webm"
    return default


MIME_SUFFIXES = {
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/ogg": ".ogg",
}
"""Content types the Inference API names audio by -> file suffix."""
