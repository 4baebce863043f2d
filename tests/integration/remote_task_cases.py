"""The call of every remote task type in the tests, and what its output must be."""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from tools.runners.base import TaskOutput

ARGS: dict[str, dict[str, str]] = {
    "text-classification": {"text": "I love this."},
    "token-classification": {"text": "My name is Sarah and I live in London."},
    "zero-shot-classification": {"text": "The match ended 2-1.", "labels": "sports, politics"},
    "fill-mask": {"text": "The capital of France is [MASK]."},
    "summarization": {"text": "A long text about many things. " * 5},
    "translation": {"text": "Hello world.", "target": "fr"},
    "question-answering": {"text": "Where?", "context": "Paris is in France."},
    "table-question-answering": {"text": "What is the average age?", "table": "people.csv"},
    "conversational": {"text": "Hi there"},
    "text-generation": {"text": "Once upon a time"},
    "sentence-similarity": {"text": "A cat.", "other": "A kitten."},
    "tabular-classification": {"table": "people.csv"},
    "text2text-generation": {"text": "What is the capital of Germany?"},
    "image-classification": {"image": "photo.png"},
    "zero-shot-image-classification": {"image": "photo.png", "labels": "a cat, a dog"},
    "object-detection": {"image": "photo.png"},
    "image-segmentation": {"image": "photo.png"},
    "image-to-text": {"image": "photo.png"},
    "visual-question-answering": {"image": "photo.png", "text": "How many cats?"},
    "document-question-answering": {"image": "photo.png", "text": "What is the total?"},
    "text-to-image": {"text": "a red square"},
    "image-to-image": {"image": "photo.png", "text": "in watercolour"},
    "image-editing": {"image": "photo.png", "text": "make it snow"},
    "text-to-video": {"text": "a running dog"},
    "text-to-speech": {"text": "Hello."},
    "automatic-speech-recognition": {"audio": "clip.wav"},
    "audio-classification": {"audio": "clip.wav"},
    "audio-to-audio": {"audio": "clip.wav"},
}


def opens_as_image(path: str | None) -> bool:
    """Tell whether ``path`` is a file that PIL reads as an image."""
    assert path and Path(path).is_file()
    with Image.open(path) as image:
        image.load()
        return image.width > 0


def opens_as_wav(path: str | None) -> bool:
    """Tell whether ``path`` is a WAV file with samples."""
    assert path and path.endswith(".wav")
    with wave.open(path, "rb") as audio:
        return audio.getnframes() > 0


"""Task -> the call's arguments (files in the test's inputs folder)."""

CHECKS: dict[str, Callable[[TaskOutput], bool]] = {
    "text-classification": lambda out: out.data["labels"][0] == {"label": "POSITIVE", "score": 0.9},
    "token-classification": lambda out: [e["entity"] for e in out.data["entities"]] == ["PER", "LOC"],
    "zero-shot-classification": lambda out: out.data["labels"][0]["label"] == "sports",
    "fill-mask": lambda out: (
        out.data["sequence"] == "the capital of france is paris."
        and out.text == "the capital of france is paris. (0.40); alternatives: lyon (0.10)"
    ),
    "summarization": lambda out: out.text == "A short summary.",
    "translation": lambda out: out.text == "Bonjour le monde." and out.data["target"] == "fr",
    "question-answering": lambda out: out.text == "Paris" and out.data["score"] == 0.95,
    "table-question-answering": lambda out: (
        out.data["cells"] == ["36"] and out.data["aggregator"] == "AVERAGE"
    ),
    "conversational": lambda out: (
        out.text == "Hello from the loopback server." and out.data["prompt_tokens"] == 7
    ),
    "text-generation": lambda out: out.text == "Once upon a time and then it rained.",
    "sentence-similarity": lambda out: out.data == {"score": 0.8125},
    "tabular-classification": lambda out: out.data["predictions"] == ["yes", "no"],
    "text2text-generation": lambda out: out.text == "Berlin",
    "image-classification": lambda out: out.text is not None and out.text.startswith("tabby cat (0.70)"),
    "zero-shot-image-classification": lambda out: out.data["labels"][0]["label"] == "a cat",
    "object-detection": lambda out: (
        [o["label"] for o in out.data["objects"]] == ["cat", "dog"] and opens_as_image(out.image)
    ),
    "image-segmentation": lambda out: (
        [s["label"] for s in out.data["segments"]] == ["cat", "sofa"]
        and out.data["segments"][0]["area"] == 0.5
        and opens_as_image(out.image)
    ),
    "image-to-text": lambda out: out.text == "a cat sitting on a sofa",
    "visual-question-answering": lambda out: out.text == "two" and len(out.data["answers"]) == 2,
    "document-question-answering": lambda out: out.text == "$42.00",
    "text-to-image": lambda out: opens_as_image(out.image),
    "image-to-image": lambda out: opens_as_image(out.image),
    "image-editing": lambda out: opens_as_image(out.image),
    "text-to-video": lambda out: (
        out.video is not None and out.video.endswith(".mp4") and Path(out.video).is_file()
    ),
    "text-to-speech": lambda out: opens_as_wav(out.audio),
    "automatic-speech-recognition": lambda out: out.text == "hello world",
    "audio-classification": lambda out: out.data["labels"][0]["label"] == "speech",
    "audio-to-audio": lambda out: opens_as_wav(out.audio) and out.data["outputs"][0]["label"] == "speech",
}
"""Task -> a check of its output against the loopback server's canned answer."""
