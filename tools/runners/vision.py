"""Runners for transformers vision models: image classification, captions, object detection, visual QA."""

from __future__ import annotations

import logging
from typing import Any

from tools.models import ModelCard
from tools.runners.base import BatchSteps, Call, LoadOptions, Runner, TaskOutput
from tools.runners.drawing import draw_boxes, scored, summarize_objects
from tools.runners.hf_common import (
    Loaded,
    decode,
    from_pretrained,
    generation_kwargs,
    model_and_processor,
    pipeline_of,
    read_image,
    to_model,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- image-classification


def load_image_classification(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load an image classifier as a transformers pipeline.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The loaded pipeline.
    """
    return pipeline_of("image-classification", card, options)


def classify_images(loaded: Loaded, images: list[Any], options: dict[str, Any]) -> list[Any]:
    """Classify every image in one pipeline call (batched) and return each image's top predictions."""
    import torch

    with torch.inference_mode():
        found = loaded.model(images, top_k=int(options.get("top_k", 5)), batch_size=len(images))
    return list(found) if len(images) > 1 or isinstance(found[0], list) else [found]


def image_labels(loaded: Loaded, call: Call, predictions: Any) -> TaskOutput:
    """Name what an image shows: the top labels with scores (option ``top_k``, default 5).

    Returns:
        ``text`` like ``cat (0.91), dog (0.05)``; ``data["labels"]`` the list of ``{label, score}``.
    """
    ranked = [(str(p["label"]), float(p["score"])) for p in predictions]
    labels = [{"label": label, "score": score} for label, score in ranked]
    return TaskOutput(text=scored(ranked), data={"labels": labels})


IMAGE_CLASSIFICATION = BatchSteps(read_image, classify_images, image_labels)
"""Image classification in batches: read each image, classify them together, render each one's labels."""


# ---------------------------------------------------------------- image-to-text


def load_image_to_text(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a captioning model (BLIP, GIT, VisionEncoderDecoder ...) with generic auto classes.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its processor (or image processor) and tokenizer.
    """
    from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoProcessor, AutoTokenizer
    from transformers.processing_utils import ProcessorMixin

    model = from_pretrained(AutoModelForImageTextToText, card, options)
    processor = AutoProcessor.from_pretrained(card.location)
    if isinstance(processor, ProcessorMixin):
        return Loaded(model, processor, processor.tokenizer, options.device)
    # VisionEncoderDecoder folders have no processor class: an image processor plus a tokenizer.
    image_processor = AutoImageProcessor.from_pretrained(card.location)
    return Loaded(model, image_processor, AutoTokenizer.from_pretrained(card.location), options.device)


def run_image_to_text(loaded: Loaded, call: Call) -> TaskOutput:
    """Caption an image (options ``prompt`` for conditional captioning, ``max_new_tokens`` default 30).

    Args:
        loaded: model, processor and tokenizer.
        call: args ``image``.

    Returns:
        The caption in ``text``.
    """
    import torch
    from transformers.processing_utils import ProcessorMixin

    image = call.workspace.load_image(call.args["image"])
    prompt = call.options.get("prompt")
    if isinstance(loaded.processor, ProcessorMixin) and prompt:
        batch = loaded.processor(images=image, text=prompt, return_tensors="pt")
    elif isinstance(loaded.processor, ProcessorMixin):
        batch = loaded.processor(images=image, return_tensors="pt")
    else:
        batch = {"pixel_values": loaded.processor(image, return_tensors="pt")["pixel_values"]}
    with torch.inference_mode():
        ids = loaded.model.generate(**to_model(batch, loaded.model), **generation_kwargs(call, 30))
    return TaskOutput(text=decode(loaded.tokenizer, ids[0]))


# ---------------------------------------------------------------- object-detection


def load_object_detection(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load an object detector (DETR, YOLOS, ...) as a transformers pipeline.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The loaded pipeline.
    """
    return pipeline_of("object-detection", card, options)


def run_object_detection(loaded: Loaded, call: Call) -> TaskOutput:
    """Find objects (option ``threshold``, default 0.5) and save a copy of the image with them drawn.

    Args:
        loaded: the pipeline.
        call: args ``image``.

    Returns:
        ``data["objects"]``: ``{label, score, box: {xmin, ymin, xmax, ymax}}`` by falling score; ``text`` a
        one-line summary; ``image`` the annotated copy.
    """
    import torch

    image = call.workspace.load_image(call.args["image"])
    with torch.inference_mode():
        found = loaded.model(image, threshold=float(call.options.get("threshold", 0.5)))
    objects = [
        {
            "label": str(item["label"]),
            "score": float(item["score"]),
            "box": {key: float(item["box"][key]) for key in ("xmin", "ymin", "xmax", "ymax")},
        }
        for item in sorted(found, key=lambda item: -float(item["score"]))
    ]
    path = call.workspace.save_image(draw_boxes(image, objects), call.stem)
    return TaskOutput(text=summarize_objects(objects), image=str(path), data={"objects": objects})


# ---------------------------------------------------------------- visual-question-answering


def load_visual_question_answering(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a VQA model: a classifier over answers (ViLT) or a generative one (BLIP).

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its processor.
    """
    return model_and_processor("AutoModelForVisualQuestionAnswering", card, options)


def run_visual_question_answering(loaded: Loaded, call: Call) -> TaskOutput:
    """Answer a question about an image (option ``top_k`` for classifiers, default 5).

    Args:
        loaded: model and processor.
        call: args ``image`` and ``text`` (the question).

    Returns:
        The best answer in ``text``; ``data["answers"]`` ``{answer, score}`` (score None when generated).
    """
    import torch

    image = call.workspace.load_image(call.args["image"])
    batch = loaded.processor(images=image, text=call.args["text"], truncation=True, return_tensors="pt")
    inputs = to_model(batch, loaded.model)
    with torch.inference_mode():
        if loaded.model.can_generate():
            ids = loaded.model.generate(**inputs, **generation_kwargs(call, 10))
            answers: list[dict[str, Any]] = [{"answer": decode(loaded.tokenizer, ids[0]), "score": None}]
        else:
            answers = _top_answers(
                loaded.model, loaded.model(**inputs).logits[0], int(call.options.get("top_k", 5))
            )
    return TaskOutput(text=answers[0]["answer"], data={"answers": answers})


def _top_answers(model: Any, logits: Any, top_k: int) -> list[dict[str, Any]]:
    # ViLT is trained with a multi-label loss: sigmoid scores, as the removed v4 pipeline did.
    scores = logits.float().sigmoid()
    best = scores.topk(min(top_k, scores.numel()))
    labels = model.config.id2label
    return [
        {"answer": str(labels[int(index)]), "score": float(score)}
        for score, index in zip(best.values.tolist(), best.indices.tolist(), strict=True)
    ]


RUNNERS: tuple[Runner, ...] = (
    Runner.batched("transformers/image-classification", load_image_classification, IMAGE_CLASSIFICATION),
    Runner.per_call("transformers/image-to-text", load_image_to_text, run_image_to_text),
    Runner.per_call("transformers/object-detection", load_object_detection, run_object_detection),
    Runner.per_call(
        "transformers/visual-question-answering",
        load_visual_question_answering,
        run_visual_question_answering,
    ),
)
