"""OCR with rapidocr (PP-OCR weights ship in its wheel), and document QA by reading alone.

`read_lines` gives the text lines of an image with their words and boxes; the document QA runners use it.
The ``rapidocr/document-question-answering`` runner answers from the OCR lines only: it picks the line that
shares most words with the question and, for a ``key: value`` line, answers the value. Importing this
module does not import rapidocr: it is imported when the engine loads.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.packaged.common import cpu_threads, require

logger = logging.getLogger(__name__)

Box = tuple[float, float, float, float]
"""An axis-aligned box in pixels: ``(x0, y0, x1, y1)``."""

_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from give how i in is it me my of on or please say show tell "
    "that the this to was were what whats when where which who why with you your".split()
)


@dataclass(frozen=True)
class OcrWord:
    """One word read from an image.

    Attributes:
        text: the word.
        score: the recognizer's confidence, 0 to 1.
        box: where it is.
    """

    text: str
    score: float
    box: Box


@dataclass(frozen=True)
class OcrLine:
    """One line of text read from an image.

    Attributes:
        text: the line.
        score: the recognizer's confidence, 0 to 1.
        box: where it is.
        words: its words, left to right.
    """

    text: str
    score: float
    box: Box
    words: tuple[OcrWord, ...]


def load_ocr(settings: dict[str, Any]) -> Any:
    """Create a rapidocr engine with the weights shipped in its wheel.

    Args:
        settings: card options: ``min_score`` (lines below it are dropped, default 0.5), ``n_threads``.

    Returns:
        The ``RapidOCR`` engine.

    Raises:
        PackageMissingError: when rapidocr (or its onnxruntime) is not installed.
    """
    rapidocr = require("rapidocr")
    require("onnxruntime")
    params = {
        "Global.text_score": float(settings.get("min_score", 0.5)),
        "Global.log_level": "warning",
        "EngineConfig.onnxruntime.intra_op_num_threads": cpu_threads(settings),
    }
    return rapidocr.RapidOCR(params=params)


def read_lines(engine: Any, image: Any) -> list[OcrLine]:
    """Read the text lines of an image, top to bottom, with word boxes.

    Args:
        engine: a rapidocr engine from `load_ocr`.
        image: a PIL RGB image.

    Returns:
        The lines (empty when the image holds no readable text).
    """
    result = engine(np.asarray(image.convert("RGB")), return_word_box=True)
    texts = result.txts or ()
    boxes = result.boxes if result.boxes is not None else ()
    scores = result.scores or ()
    word_results = result.word_results or ()
    lines = []
    for index, (text, score, corners) in enumerate(zip(texts, scores, boxes, strict=False)):
        box = _bounds(corners)
        found = word_results[index] if index < len(word_results) else ()
        words = _words(found) or _split_words(str(text), float(score), box)
        lines.append(OcrLine(str(text), float(score), box, words))
    return lines


def words_of(lines: list[OcrLine]) -> list[OcrWord]:
    """Return every word of ``lines``, in reading order."""
    return [word for line in lines for word in line.words]


def _bounds(corners: Any) -> Box:
    points = np.asarray(corners, dtype=np.float32).reshape(-1, 2)
    return (
        float(points[:, 0].min()),
        float(points[:, 1].min()),
        float(points[:, 0].max()),
        float(points[:, 1].max()),
    )


def _words(found: Any) -> tuple[OcrWord, ...]:
    words = []
    for item in found or ():
        if len(item) == 3 and isinstance(item[0], str) and item[2] is not None:
            words.append(OcrWord(item[0], float(item[1]), _bounds(item[2])))
    return tuple(words)


def _split_words(text: str, score: float, box: Box) -> tuple[OcrWord, ...]:
    """Split a line into words, sharing its box out by character count (when no word boxes came back)."""
    x0, y0, x1, y1 = box
    step = (x1 - x0) / max(1, len(text))
    words = []
    for match in re.finditer(r"\S+", text):
        words.append(
            OcrWord(match.group(), score, (x0 + step * match.start(), y0, x0 + step * match.end(), y1))
        )
    return tuple(words)


# ---------------------------------------------------------------- document QA by OCR alone


@dataclass(frozen=True)
class LineAnswer:
    """The answer taken from the document's lines.

    Attributes:
        answer: the answer text (empty when no line matches).
        score: matched question words / question words, times the OCR confidence.
        line: the line it came from.
    """

    answer: str
    score: float
    line: OcrLine | None


def keywords(text: str) -> set[str]:
    """Return the lower-case content words of ``text`` (no stopwords, plural ``s`` removed)."""
    tokens = re.findall(r"[a-z0-9]+", text.lower())
    return {_stem(token) for token in tokens if token not in _STOPWORDS}


def _stem(token: str) -> str:
    return token[:-1] if len(token) > 3 and token.endswith("s") and not token.endswith("ss") else token


def answer_from_lines(question: str, lines: list[OcrLine]) -> LineAnswer:
    """Answer a question with the document line that shares most content words with it.

    For a ``key: value`` line whose key matches, the answer is the value; for a line that is only the
    key (``Total`` with the amount in its own box), the answer is the line to its right on the same row,
    else the line below.

    Args:
        question: e.g. ``what is the total?``.
        lines: the OCR lines, top to bottom.

    Returns:
        The answer; empty with score 0 when no line shares a word with the question.
    """
    wanted = keywords(question)
    if not wanted or not lines:
        return LineAnswer("", 0.0, None)
    overlaps = [len(wanted & keywords(line.text)) for line in lines]
    best = max(range(len(lines)), key=lambda index: (overlaps[index], lines[index].score, -index))
    if overlaps[best] == 0:
        return LineAnswer("", 0.0, None)
    line = lines[best]
    score = overlaps[best] / len(wanted) * line.score
    key, separator, value = line.text.partition(":")
    if separator and value.strip() and wanted & keywords(key):
        return LineAnswer(value.strip(), score, line)
    if not keywords(line.text) - wanted:
        neighbour = _value_beside(line, lines)
        if neighbour is not None:
            return LineAnswer(neighbour.text.strip(), score * neighbour.score, neighbour)
    return LineAnswer(line.text.strip(), score, line)


def _value_beside(key: OcrLine, lines: list[OcrLine]) -> OcrLine | None:
    """Return the line right of ``key`` on its row (the nearest), else the first line below it."""
    top, bottom = key.box[1], key.box[3]
    middle = (top + bottom) / 2
    right = [line for line in lines if line.box[0] >= key.box[2] - 1 and line.box[1] <= middle <= line.box[3]]
    if right:
        return min(right, key=lambda line: line.box[0])
    below = [line for line in lines if line.box[1] >= middle and line is not key]
    return min(below, key=lambda line: line.box[1]) if below else None


def load_rapidocr(card: ModelCard, options: LoadOptions) -> Any:
    """Load the rapidocr engine (CPU; the device option is not used).

    Args:
        card: the model card (options ``min_score``, ``n_threads``).
        options: device and dtype (unused).

    Returns:
        The engine.

    Raises:
        PackageMissingError: when rapidocr is not installed.
    """
    return load_ocr(card.options)


def run_rapidocr_document_qa(engine: Any, call: Call) -> TaskOutput:
    """Answer a question about a document image by OCR and word overlap (no language model).

    Args:
        engine: the rapidocr engine.
        call: args ``image`` and ``text`` (the question).

    Returns:
        ``text`` the answer (or a sentence saying none was found); ``data`` ``answer``, ``score``, ``line``
        (the line it came from, with its ``box``) and ``lines`` (every line read).

    Raises:
        InputError: for a missing image or an empty question.
    """
    question = call.args.get("text", "").strip()
    if not question:
        raise InputError("the 'text' argument (the question) is empty")
    lines = read_lines(engine, call.workspace.load_image(call.args["image"]))
    found = answer_from_lines(question, lines)
    data: dict[str, Any] = {
        "answer": found.answer,
        "score": round(found.score, 4),
        "line": None if found.line is None else {"text": found.line.text, "box": list(found.line.box)},
        "lines": [{"text": line.text, "score": line.score, "box": list(line.box)} for line in lines],
    }
    if found.answer:
        return TaskOutput(text=found.answer, data=data)
    reason = "no text found in the document" if not lines else "no line of the document matches the question"
    return TaskOutput(text=reason, data=data)


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call("rapidocr/document-question-answering", load_rapidocr, run_rapidocr_document_qa),
)
