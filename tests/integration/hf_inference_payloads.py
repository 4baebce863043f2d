"""Canned answers of the Hugging Face Inference API, one per task, in the shapes the real API sends."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from tools.artifacts import encode_wav

PIPELINE_TAGS = {
    "conversational": "text-generation",
    "image-editing": "image-to-image",
}
"""Registry task -> the hub pipeline tag of a model serving it (others: the task's own name)."""

MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + b"\x00" * 64
"""The start of an MP4 file (``ftyp`` box), enough for a suffix check."""


def png_bytes(size: tuple[int, int] = (32, 24), colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """Return a small PNG image's bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def mask_png_b64(size: tuple[int, int] = (32, 24), left_half: bool = True) -> str:
    """Return a base64 PNG mask (mode L) covering the left or right half of the image."""
    from PIL import Image

    mask = np.zeros((size[1], size[0]), dtype=np.uint8)
    if left_half:
        mask[:, : size[0] // 2] = 255
    else:
        mask[:, size[0] // 2 :] = 255
    buffer = io.BytesIO()
    Image.fromarray(mask, mode="L").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def wav_bytes(seconds: float = 0.1, rate: int = 16000) -> bytes:
    """Return a short sine tone as 16-bit WAV bytes."""
    times = np.arange(int(seconds * rate)) / rate
    return encode_wav(0.3 * np.sin(2 * np.pi * 440 * times), rate)


def _chat(_request: Any) -> Any:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "test",
        "system_fingerprint": "test",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": " Hello from the loopback server."},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 7, "completion_tokens": 6, "total_tokens": 13},
    }


def _labels(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"label": label, "score": score} for label, score in pairs]


_JSON_ANSWERS: dict[str, Callable[[Any], Any]] = {
    "text-classification": lambda _: [_labels(("POSITIVE", 0.9), ("NEGATIVE", 0.1))],
    "token-classification": lambda _: [
        {"entity_group": "PER", "score": 0.99, "word": "Sarah", "start": 11, "end": 16},
        {"entity_group": "LOC", "score": 0.97, "word": "London", "start": 30, "end": 36},
    ],
    "zero-shot-classification": lambda _: _labels(("sports", 0.8), ("politics", 0.2)),
    "fill-mask": lambda _: [
        {"score": 0.4, "token": 3000, "token_str": "paris", "sequence": "the capital of france is paris."},
        {"score": 0.1, "token": 3001, "token_str": "lyon", "sequence": "the capital of france is lyon."},
    ],
    "summarization": lambda _: [{"summary_text": "A short summary."}],
    "translation": lambda _: [{"translation_text": "Bonjour le monde."}],
    "text-generation": lambda _: [{"generated_text": " and then it rained."}],
    "text2text-generation": lambda _: [{"generated_text": "Berlin"}],
    "conversational": _chat,
    "question-answering": lambda _: {"answer": "Paris", "score": 0.95, "start": 0, "end": 5},
    "table-question-answering": lambda _: {
        "answer": "AVERAGE > 36",
        "coordinates": [[0, 1]],
        "cells": ["36"],
        "aggregator": "AVERAGE",
    },
    "sentence-similarity": lambda _: [0.8125],
    "tabular-classification": lambda _: ["yes", "no"],
    "image-classification": lambda _: _labels(("tabby cat", 0.7), ("dog", 0.2)),
    "zero-shot-image-classification": lambda _: _labels(("a cat", 0.9), ("a dog", 0.1)),
    "object-detection": lambda _: [
        {"score": 0.6, "label": "dog", "box": {"xmin": 1, "ymin": 1, "xmax": 10, "ymax": 10}},
        {"score": 0.9, "label": "cat", "box": {"xmin": 12, "ymin": 2, "xmax": 30, "ymax": 20}},
    ],
    "image-segmentation": lambda _: [
        {"score": 0.9, "label": "cat", "mask": mask_png_b64(left_half=True)},
        {"score": 0.8, "label": "sofa", "mask": mask_png_b64(left_half=False)},
    ],
    "image-to-text": lambda _: [{"generated_text": "a cat sitting on a sofa"}],
    "visual-question-answering": lambda _: [{"answer": "two", "score": 0.8}, {"answer": "one", "score": 0.1}],
    "document-question-answering": lambda _: [{"answer": "$42.00", "score": 0.9, "start": 3, "end": 4}],
    "automatic-speech-recognition": lambda _: {"text": " hello world", "chunks": None},
    "audio-classification": lambda _: _labels(("speech", 0.85), ("music", 0.15)),
    "audio-to-audio": lambda _: [
        {"label": "speech", "content-type": "audio/wav", "blob": base64.b64encode(wav_bytes()).decode()}
    ],
}

_BINARY_ANSWERS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "text-to-image": ("image/png", png_bytes),
    "image-to-image": ("image/png", png_bytes),
    "image-editing": ("image/png", png_bytes),
    "text-to-video": ("video/mp4", lambda: MP4_BYTES),
    "text-to-speech": ("audio/wav", wav_bytes),
}


def answer_for(task: str, request: Any) -> tuple[str, bytes]:
    """Return the content type and body that the API answers ``task`` with.

    Args:
        task: a registry task name (the loopback server's models are named after their task).
        request: the request's JSON body, if any.

    Returns:
        ``(content type, body)``.

    Raises:
        KeyError: for a task the server has no answer for.
    """
    if task in _BINARY_ANSWERS:
        content_type, make = _BINARY_ANSWERS[task]
        return content_type, make()
    return "application/json", json.dumps(_JSON_ANSWERS[task](request)).encode()
