"""Every transformers/diffusers runner loads its tiny random model and runs once: types and shapes only."""

from __future__ import annotations

import math
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tools.artifacts import InputError, Workspace, encode_wav
from tools.backends.availability import local_availability
from tools.models import Catalog, ModelCard
from tools.registry import TASKS
from tools.runners import default_runners
from tools.runners.base import Call, LoadOptions, TaskOutput
from tools.runners.drawing import summarize_objects
from tools.runners.text import best_span

RUNNER_BY_NAME = dict(default_runners())
IMAGE_SIZE = (48, 40)


@pytest.fixture(scope="module")
def cards(tiny_models: list[dict[str, Any]]) -> dict[str, ModelCard]:  # noqa: F811
    return {entry["id"]: ModelCard(**entry) for entry in tiny_models}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("inputs")
    image = Image.new("RGB", IMAGE_SIZE, (200, 30, 30))
    for x in range(10, 30):
        for y in range(8, 24):
            image.putpixel((x, y), (20, 40, 220))
    image.save(folder / "photo.png")
    rate = 22050  # not the models' 16 kHz, so loading resamples
    t = np.arange(int(rate * 0.4)) / rate
    (folder / "tone.wav").write_bytes(encode_wav(0.3 * np.sin(2 * math.pi * 440.0 * t), rate))
    return {"image": str(folder / "photo.png"), "audio": str(folder / "tone.wav")}


def _run(card: ModelCard, args: dict[str, str], tmp_path: Path) -> TaskOutput:
    runner = RUNNER_BY_NAME[card.runner_name]
    model = runner.load(card, LoadOptions())
    files = [Path(value) for value in args.values() if Path(value).is_absolute()]
    workspace = Workspace(
        tmp_path / "ws", base=files[0].parent if files else tmp_path
    )  # inputs are read there
    call = Call(args=args, workspace=workspace, stem=f"t-{card.task}", options=dict(card.options))
    output = runner.run(model, call)
    assert isinstance(output, TaskOutput)
    return output


def _assert_png(path: str | None, tmp_path: Path) -> Image.Image:
    assert path is not None
    file = Path(path)
    assert file.is_file() and file.parent == tmp_path / "ws" and file.suffix == ".png"
    with Image.open(file) as image:
        assert image.format == "PNG"
        return image.copy()


def test_every_registered_task_has_its_default_runner() -> None:
    assert {spec.default_runner for spec in TASKS.values()} <= set(RUNNER_BY_NAME)


def test_tiny_catalog_loads(tiny_catalog: Path) -> None:  # noqa: F811
    catalog = Catalog.from_files([tiny_catalog])
    packaged_or_none = {"canny-control", "scribble-control", "openpose-control"}
    assert {card.task for card in catalog.cards} == set(TASKS) - packaged_or_none
    assert all(local_availability(card, hub_online=False) == "local" for card in catalog.cards)
    assert [card.id for card in catalog.candidates("image-to-text", 2)][0] == "tiny/blip-image-to-text"


def test_import_does_not_import_torch() -> None:
    code = (
        "import sys, tools.runners; tools.runners.default_runners(); "
        "heavy = {'torch', 'transformers', 'diffusers', 'cv2', 'mediapipe', 'rapidocr'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_image_classification(cards: dict[str, ModelCard], inputs: dict[str, str], tmp_path: Path) -> None:
    out = _run(cards["tiny/vit-image-classification"], {"image": inputs["image"]}, tmp_path)
    assert isinstance(out.text, str) and out.text
    labels = out.data["labels"]
    assert len(labels) == 3 and {item["label"] for item in labels} == {"cat", "dog", "car"}
    assert all(0.0 <= item["score"] <= 1.0 for item in labels)


@pytest.mark.parametrize("model_id", ["tiny/blip-image-to-text", "tiny/vit-gpt2-image-to-text"])
def test_image_to_text(
    model_id: str, cards: dict[str, ModelCard], inputs: dict[str, str], tmp_path: Path
) -> None:
    out = _run(cards[model_id], {"image": inputs["image"]}, tmp_path)
    assert isinstance(out.text, str)


def test_object_detection(cards: dict[str, ModelCard], inputs: dict[str, str], tmp_path: Path) -> None:
    out = _run(cards["tiny/yolos-object-detection"], {"image": inputs["image"]}, tmp_path)
    objects = out.data["objects"]
    assert objects, "threshold 0.0 keeps every detection token"
    for obj in objects:
        assert set(obj) == {"label", "score", "box"}
        assert set(obj["box"]) == {"xmin", "ymin", "xmax", "ymax"}
        assert all(isinstance(value, float) for value in obj["box"].values())
    assert [obj["score"] for obj in objects] == sorted((obj["score"] for obj in objects), reverse=True)
    assert isinstance(out.text, str) and out.text.startswith(f"{len(objects)} object")
    drawn = _assert_png(out.image, tmp_path)
    assert drawn.size == IMAGE_SIZE
    with Image.open(inputs["image"]) as original:
        assert original.size == IMAGE_SIZE  # the input is left as it was


def test_visual_question_answering(
    cards: dict[str, ModelCard], inputs: dict[str, str], tmp_path: Path
) -> None:
    args = {"image": inputs["image"], "text": "what is in the image?"}
    out = _run(cards["tiny/vilt-visual-question-answering"], args, tmp_path)
    answers = out.data["answers"]
    assert len(answers) == 3 and out.text == answers[0]["answer"]
    assert out.text in {"yes", "no", "two"}
    assert all(0.0 <= item["score"] <= 1.0 for item in answers)


def test_text_to_image(cards: dict[str, ModelCard], tmp_path: Path) -> None:
    out = _run(cards["tiny/stable-diffusion-text-to-image"], {"text": "a red cat"}, tmp_path)
    image = _assert_png(out.image, tmp_path)
    assert image.size == (64, 64) and image.mode == "RGB"
    assert out.data["num_inference_steps"] == 2


def test_text_to_speech(cards: dict[str, ModelCard], tmp_path: Path) -> None:
    out = _run(cards["tiny/vits-text-to-speech"], {"text": "hello world"}, tmp_path)
    assert out.audio is not None and Path(out.audio).suffix == ".wav"
    with wave.open(out.audio, "rb") as wav:
        assert wav.getframerate() == 16000 and wav.getnchannels() == 1 and wav.getsampwidth() == 2
        assert wav.getnframes() > 0
    assert out.data["sampling_rate"] == 16000 and out.data["seconds"] > 0


def test_speech_recognition(cards: dict[str, ModelCard], inputs: dict[str, str], tmp_path: Path) -> None:
    out = _run(cards["tiny/wav2vec2-speech-recognition"], {"audio": inputs["audio"]}, tmp_path)
    assert isinstance(out.text, str)
    assert out.data["seconds"] == pytest.approx(0.4, abs=0.01)


def test_speech_recognition_missing_file(cards: dict[str, ModelCard], tmp_path: Path) -> None:
    with pytest.raises(InputError):
        _run(cards["tiny/wav2vec2-speech-recognition"], {"audio": str(tmp_path / "absent.wav")}, tmp_path)


def test_summarization(cards: dict[str, ModelCard], tmp_path: Path) -> None:
    out = _run(cards["tiny/bart-summarization"], {"text": "the cat sat on the mat. " * 40}, tmp_path)
    assert isinstance(out.text, str)


def test_translation(cards: dict[str, ModelCard], tmp_path: Path) -> None:
    out = _run(cards["tiny/bart-translation"], {"text": "the cat is black", "target": "French"}, tmp_path)
    assert isinstance(out.text, str) and out.data["target"] == "French"


def test_question_answering(cards: dict[str, ModelCard], tmp_path: Path) -> None:
    context = "the cat is black and the dog is white. " * 20  # longer than one window: several windows
    out = _run(
        cards["tiny/bert-question-answering"], {"text": "what is the cat?", "context": context}, tmp_path
    )
    assert isinstance(out.text, str)
    data = out.data
    assert 0 <= data["start"] <= data["end"] <= len(context)
    assert out.text == context[data["start"] : data["end"]].strip()
    assert 0.0 <= data["score"] <= 1.0


def test_text_generation(cards: dict[str, ModelCard], tmp_path: Path) -> None:
    out = _run(cards["tiny/gpt2-text-generation"], {"text": "once upon a time"}, tmp_path)
    assert isinstance(out.text, str) and out.text.startswith("once upon a time")
    assert isinstance(out.data["generated"], str)


def test_sentence_similarity(cards: dict[str, ModelCard], tmp_path: Path) -> None:
    out = _run(
        cards["tiny/bert-sentence-similarity"], {"text": "a cat", "other": "a dog in the image"}, tmp_path
    )
    assert -1.0001 <= out.data["score"] <= 1.0001
    assert isinstance(out.text, str) and out.text.startswith("similarity: ")


def test_best_span_stays_in_allowed_tokens() -> None:
    import torch

    start = torch.tensor([9.0, 0.0, 1.0, 5.0, 0.0])
    end = torch.tensor([9.0, 0.0, 0.0, 1.0, 4.0])
    allowed = torch.tensor([False, True, True, True, True])
    score, first, last = best_span(start, end, allowed, max_len=30)
    assert (first, last) == (3, 4) and 0.0 < score <= 1.0
    assert best_span(start, end, allowed, max_len=1)[1:] == (3, 3)
    assert best_span(start, end, torch.zeros(5, dtype=torch.bool), 30) == (0.0, 0, 0)


def test_summarize_objects() -> None:
    objs = [{"label": "cat", "score": 0.981}, {"label": "dog", "score": 0.912}]
    assert summarize_objects(objs) == "2 objects: cat (0.98), dog (0.91)"
    assert summarize_objects([]) == "no objects found"
    assert summarize_objects(objs * 6, limit=2).endswith("and 10 more")
