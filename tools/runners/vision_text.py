"""Runners that read images with text: zero-shot image classification (CLIP-like, batched) and document QA.

Document question answering reads the document's words with rapidocr (`tools.runners.packaged.rapidocr`)
and hands them with their boxes to a LayoutLM-like extractive model. Importing this module imports neither
torch, transformers nor rapidocr.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.runners.base import BatchSteps, Call, LoadOptions, Runner, TaskOutput
from tools.runners.drawing import scored
from tools.runners.hf_common import Loaded, model_and_processor, pipeline_of, to_model
from tools.runners.packaged.rapidocr import OcrWord, load_ocr, read_lines, words_of

logger = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "This is a photo of {}."
_SIGMOID_MODELS = ("siglip", "siglip2")


# ---------------------------------------------------------------- zero-shot-image-classification


@dataclass(frozen=True)
class ZeroShotItem:
    """One prepared zero-shot call.

    Attributes:
        image: the RGB PIL image.
        labels: the candidate labels, in the order given.
    """

    image: Any
    labels: tuple[str, ...]


def parse_labels(value: str) -> tuple[str, ...]:
    """Split comma-separated candidate labels, dropping blanks and repeats.

    Args:
        value: e.g. ``"cat, dog, car"``.

    Returns:
        The labels in order.

    Raises:
        InputError: when no label is left.
    """
    labels = tuple(dict.fromkeys(label.strip() for label in value.split(",") if label.strip()))
    if not labels:
        raise InputError("the 'labels' argument names no label: give comma-separated labels, e.g. 'cat, dog'")
    return labels


def load_zero_shot_image_classification(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load an image-text model (CLIP, SigLIP, ...) with its processor.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model and its processor.
    """
    return model_and_processor("AutoModelForZeroShotImageClassification", card, options)


def prepare_zero_shot(loaded: Loaded, call: Call) -> ZeroShotItem:
    """Read the image and the candidate labels of one call.

    Args:
        loaded: the model (unused).
        call: args ``image`` and ``labels``.

    Returns:
        The prepared item.

    Raises:
        InputError: for a missing image or no labels.
    """
    labels = parse_labels(call.args.get("labels", ""))
    return ZeroShotItem(call.workspace.load_image(call.args["image"]), labels)


def score_zero_shot(loaded: Loaded, items: list[ZeroShotItem], options: dict[str, Any]) -> list[list[float]]:
    """Score every item's labels in one pass: all images against the union of all labels' prompts.

    Option ``hypothesis_template`` (default ``This is a photo of {}.``) turns a label into a prompt.
    Scores are a softmax over each item's own labels (a sigmoid for SigLIP models, as they are trained).

    Args:
        loaded: the model and processor.
        items: prepared calls.
        options: the card's options.

    Returns:
        One list of scores per item, in its labels' order.
    """
    import torch

    template = str(options.get("hypothesis_template", DEFAULT_TEMPLATE))
    labels = list(dict.fromkeys(label for item in items for label in item.labels))
    column = {label: index for index, label in enumerate(labels)}
    sigmoid = getattr(loaded.model.config, "model_type", "") in _SIGMOID_MODELS
    batch = loaded.processor(
        images=[item.image for item in items],
        text=[template.format(label) for label in labels],
        padding="max_length" if sigmoid else True,
        truncation=True,
        return_tensors="pt",
    )
    with torch.inference_mode():
        logits = loaded.model(**to_model(batch, loaded.model)).logits_per_image.float()
    scores: list[list[float]] = []
    for row, item in zip(logits, items, strict=True):
        picked = row[[column[label] for label in item.labels]]
        probabilities = picked.sigmoid() if sigmoid else picked.softmax(-1)
        scores.append([float(value) for value in probabilities.tolist()])
    return scores


def finish_zero_shot(loaded: Loaded, call: Call, scores: list[float]) -> TaskOutput:
    """Rank one call's labels by score.

    Args:
        loaded: the model (unused).
        call: args ``labels``.
        scores: one score per label, in the labels' order.

    Returns:
        ``text`` like ``cat (0.91), dog (0.09)``; ``data["labels"]`` the ``{label, score}`` list, best first.
    """
    ranked = sorted(zip(parse_labels(call.args["labels"]), scores, strict=True), key=lambda pair: -pair[1])
    return TaskOutput(text=scored(ranked), data={"labels": [{"label": lab, "score": s} for lab, s in ranked]})


# ---------------------------------------------------------------- document-question-answering


@dataclass(frozen=True)
class DocumentReader:
    """An extractive document QA pipeline with the OCR engine that reads its words.

    Attributes:
        pipeline: the transformers ``document-question-answering`` pipeline.
        ocr: the rapidocr engine.
    """

    pipeline: Any
    ocr: Any


def load_document_question_answering(card: ModelCard, options: LoadOptions) -> DocumentReader:
    """Load a LayoutLM-like document QA pipeline and the rapidocr engine.

    Args:
        card: the model card (options ``min_score``, ``n_threads`` go to the OCR engine).
        options: device and dtype.

    Returns:
        The reader.

    Raises:
        PackageMissingError: when rapidocr is not installed.
    """
    ocr = load_ocr(card.options)
    return DocumentReader(pipeline_of("document-question-answering", card, options).model, ocr)


def word_boxes(words: list[OcrWord], width: int, height: int) -> list[tuple[str, list[int]]]:
    """Return OCR words with boxes scaled to 0-1000, as LayoutLM models take them.

    Args:
        words: the words, in reading order.
        width: the image width in pixels.
        height: the image height in pixels.

    Returns:
        ``(word, [x0, y0, x1, y1])`` pairs.
    """

    def scale(value: float, size: int) -> int:
        return max(0, min(1000, round(1000 * value / max(1, size))))

    return [
        (
            word.text,
            [
                scale(word.box[0], width),
                scale(word.box[1], height),
                scale(word.box[2], width),
                scale(word.box[3], height),
            ],
        )
        for word in words
    ]


def run_document_question_answering(reader: DocumentReader, call: Call) -> TaskOutput:
    """Answer a question about a document image from its OCR words (option ``top_k``, default 3).

    Args:
        reader: the pipeline and OCR engine.
        call: args ``image`` and ``text`` (the question).

    Returns:
        ``text`` the best answer; ``data["answers"]`` ``{answer, score, start, end}`` (word indices),
        ``data["words"]`` how many words the OCR read.

    Raises:
        InputError: for a missing image or an empty question.
    """
    import torch

    question = call.args.get("text", "").strip()
    if not question:
        raise InputError("the 'text' argument (the question) is empty")
    image = call.workspace.load_image(call.args["image"])
    words = words_of(read_lines(reader.ocr, image))
    if not words:
        return TaskOutput(text="no text found in the document", data={"answers": [], "words": 0})
    with torch.inference_mode():
        found = reader.pipeline(
            image=image,
            question=question,
            word_boxes=word_boxes(words, image.width, image.height),
            top_k=int(call.options.get("top_k", 3)),
        )
    answers = [
        {
            "answer": str(item["answer"]),
            "score": float(item["score"]),
            "start": item["start"],
            "end": item["end"],
        }
        for item in (found if isinstance(found, list) else [found])
    ]
    text = answers[0]["answer"] if answers else "no answer found in the document"
    return TaskOutput(text=text, data={"answers": answers, "words": len(words)})


RUNNERS: tuple[Runner, ...] = (
    Runner.batched(
        "transformers/zero-shot-image-classification",
        load_zero_shot_image_classification,
        BatchSteps(prepare_zero_shot, score_zero_shot, finish_zero_shot),
    ),
    Runner.per_call(
        "transformers/document-question-answering",
        load_document_question_answering,
        run_document_question_answering,
    ),
)
