"""The dense and vision-text runners on tiny random models: output types, files, errors and batching."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.fixtures.tiny_vision import SEGMENT_LABELS, build_tiny_vision_models
from tools.artifacts import InputError, Workspace
from tools.models import ModelCard
from tools.runners import vision_dense, vision_text
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.hf_common import pipeline_of
from tools.runners.masks import add_legend, apply_colour_map, normalise, overlay_masks, render_depth
from tools.runners.packaged import rapidocr as ocr_module
from tools.runners.packaged.rapidocr import OcrLine, OcrWord, answer_from_lines, keywords

RUNNERS: dict[str, Runner] = {runner.name: runner for runner in (*vision_dense.RUNNERS, *vision_text.RUNNERS)}
SIZES = ((48, 40), (40, 56), (36, 36))


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModelCard]:
    entries = build_tiny_vision_models(tmp_path_factory.mktemp("tiny-vision"))
    return {entry["task"]: ModelCard(**entry) for entry in entries}


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for index, size in enumerate(SIZES):
        image = Image.new("RGB", size, (200, 30 + 60 * index, 30))
        image.paste((20, 40, 220), (4, 4, size[0] // 2, size[1] // 2))
        image.save(folder / f"photo{index}.png")
    (folder / "broken.png").write_bytes(b"not an image")
    return folder


@pytest.fixture(scope="module")
def loaded(cards: dict[str, ModelCard]) -> dict[str, Any]:
    return {task: RUNNERS[card.runner_name].load(card, LoadOptions()) for task, card in cards.items()}


MakeCall = Callable[[str, dict[str, str]], Call]
Run = Callable[[str, dict[str, str]], TaskOutput]


@pytest.fixture
def make_call(cards: dict[str, ModelCard], photos: Path, tmp_path: Path) -> MakeCall:
    """Return a factory of calls of a task's tiny card, reading the test photos."""
    workspace = Workspace(tmp_path / "ws", base=photos)

    def make(task: str, args: dict[str, str]) -> Call:
        return Call(args=args, workspace=workspace, stem=f"t-{task}", options=dict(cards[task].options))

    return make


@pytest.fixture
def run(cards: dict[str, ModelCard], loaded: dict[str, Any], make_call: MakeCall) -> Run:
    """Return a function that runs one call of a task on its loaded tiny model."""

    def run_one(task: str, args: dict[str, str]) -> TaskOutput:
        return RUNNERS[cards[task].runner_name].run(loaded[task], make_call(task, args))

    return run_one


def _png(path: str | None) -> Image.Image:
    assert path is not None and Path(path).suffix == ".png"
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.copy()


def _close(left: Any, right: Any) -> bool:
    """Compare JSON-like values: floats within a tolerance (batched sums differ slightly), no file paths."""
    if isinstance(left, dict) and isinstance(right, dict):
        keys = left.keys() - {"mask"}  # saved masks: the same picture under another name
        return keys == right.keys() - {"mask"} and all(_close(left[key], right[key]) for key in keys)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_close(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) and isinstance(right, float):
        return bool(left == pytest.approx(right, rel=1e-4, abs=1e-5))
    return bool(left == right)


def test_import_loads_no_heavy_library() -> None:
    modules = "tools.runners.vision_dense, tools.runners.vision_text, tools.runners.packaged.rapidocr"
    heavy = "('torch', 'transformers', 'rapidocr', 'cv2')"
    code = (
        f"import sys, {modules}; loaded = [m for m in {heavy} if m in sys.modules]; assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


# ---------------------------------------------------------------- drawing


def test_overlay_masks_tints_only_the_masked_pixels() -> None:
    image = Image.new("RGB", (8, 6), (100, 100, 100))
    mask = np.zeros((6, 8), dtype=bool)
    mask[:3] = True
    drawn = np.asarray(overlay_masks(image, [mask], alpha=0.5))
    assert drawn.shape == (6, 8, 3)
    assert (drawn[3:] == 100).all() and (drawn[:3] != 100).any()
    with pytest.raises(ValueError, match="shape"):
        overlay_masks(image, [np.zeros((2, 2), dtype=bool)])


def test_legend_adds_a_row_per_entry() -> None:
    image = Image.new("RGB", (200, 50))
    with_legend = add_legend(image, ["sky 60%", "road 40%"])
    assert with_legend.width == 200 and with_legend.height > 50 + 2 * 10
    assert add_legend(image, []).size == image.size


def test_render_depth_near_is_bright() -> None:
    disparity = np.array([[0.0, 1.0], [2.0, 4.0]], dtype=np.float32)
    gray = np.asarray(render_depth(disparity))
    assert gray.dtype == np.uint8 and gray[0, 0] == 0 and gray[1, 1] == 255
    distance = np.asarray(render_depth(disparity, larger_is_farther=True))
    assert distance[0, 0] == 255 and distance[1, 1] == 0
    assert render_depth(disparity, "inferno").mode == "RGB"
    assert not normalise(np.ones((3, 3))).any()
    with pytest.raises(ValueError, match="colour map"):
        apply_colour_map(normalise(disparity), "rainbow")


# ---------------------------------------------------------------- image-segmentation


def test_segmentation_draws_masks_and_reports_areas(run: Run) -> None:
    out = run("image-segmentation", {"image": "photo0.png"})
    segments = out.data["segments"]
    assert segments and {seg["label"] for seg in segments} <= set(SEGMENT_LABELS.values())
    assert sum(seg["area"] for seg in segments) == pytest.approx(1.0, abs=0.01)  # semantic: a partition
    assert [seg["area"] for seg in segments] == sorted((seg["area"] for seg in segments), reverse=True)
    drawn = _png(out.image)
    assert drawn.width >= SIZES[0][0] and drawn.height > SIZES[0][1]  # the legend sits below the photo
    for seg in segments:  # the tiny card sets save_masks
        mask = _png(seg["mask"])
        assert mask.mode == "L" and mask.size == SIZES[0]
    assert isinstance(out.text, str) and "%" in out.text


# ---------------------------------------------------------------- depth-estimation


def test_depth_image_has_the_photo_size(run: Run) -> None:
    out = run("depth-estimation", {"image": "photo1.png"})
    depth = _png(out.image)
    assert depth.size == SIZES[1] and depth.mode == "RGB"  # the tiny card asks for the inferno map
    assert out.data["min"] <= out.data["max"] and out.data["kind"] == "inverse depth"
    assert (out.data["width"], out.data["height"]) == SIZES[1]


# ---------------------------------------------------------------- zero-shot-image-classification


def test_zero_shot_ranks_the_given_labels(run: Run) -> None:
    args = {"image": "photo0.png", "labels": "cat, dog ,, car, cat"}
    out = run("zero-shot-image-classification", args)
    labels = out.data["labels"]
    assert sorted(item["label"] for item in labels) == ["car", "cat", "dog"]
    assert sum(item["score"] for item in labels) == pytest.approx(1.0)
    assert [item["score"] for item in labels] == sorted((item["score"] for item in labels), reverse=True)
    assert out.text is not None and out.text.startswith(labels[0]["label"])


def test_zero_shot_without_labels_is_an_input_error(run: Run) -> None:
    with pytest.raises(InputError, match="labels"):
        run("zero-shot-image-classification", {"image": "photo0.png", "labels": " , "})


# ---------------------------------------------------------------- batching


BATCH_ARGS = {
    "image-segmentation": [{"image": f"photo{i}.png"} for i in range(3)],
    "depth-estimation": [{"image": f"photo{i}.png"} for i in range(3)],
    "zero-shot-image-classification": [
        {"image": "photo0.png", "labels": "cat, dog"},
        {"image": "photo1.png", "labels": "car, tree, sky"},
        {"image": "photo2.png", "labels": "dog, car"},
    ],
}


@pytest.mark.parametrize("task", sorted(BATCH_ARGS))
def test_a_batch_equals_each_call_alone(
    task: str, cards: dict[str, ModelCard], loaded: dict[str, Any], make_call: MakeCall
) -> None:
    runner = RUNNERS[cards[task].runner_name]
    assert runner.max_batch > 1
    calls = [make_call(task, args) for args in BATCH_ARGS[task]]
    together = runner.forward(loaded[task], calls)
    alone = [runner.run(loaded[task], call) for call in calls]
    assert len(together) == 3
    for batched, single in zip(together, alone, strict=True):
        assert isinstance(batched, TaskOutput)
        assert batched.text == single.text
        assert _close(batched.data, single.data)


@pytest.mark.parametrize("task", sorted(BATCH_ARGS))
def test_a_bad_input_fails_only_its_call(
    task: str, cards: dict[str, ModelCard], loaded: dict[str, Any], make_call: MakeCall
) -> None:
    runner = RUNNERS[cards[task].runner_name]
    args = [
        dict(BATCH_ARGS[task][0]),
        {**BATCH_ARGS[task][1], "image": "broken.png"},
        dict(BATCH_ARGS[task][2]),
    ]
    outcomes = runner.forward(loaded[task], [make_call(task, arg) for arg in args])
    assert isinstance(outcomes[0], TaskOutput) and isinstance(outcomes[2], TaskOutput)
    assert isinstance(outcomes[1], InputError) and "broken.png" in str(outcomes[1])


# ---------------------------------------------------------------- document-question-answering


class FakeOcr:
    """Stands in for the rapidocr engine: one line, ``Invoice total: 42 dollars``, with word boxes."""

    def __call__(self, image: np.ndarray, return_word_box: bool = False) -> SimpleNamespace:
        words = (
            ("Invoice", 0.99, [[10, 10], [60, 10], [60, 30], [10, 30]]),
            ("total:", 0.99, [[64, 10], [100, 10], [100, 30], [64, 30]]),
            ("42", 0.99, [[104, 10], [120, 10], [120, 30], [104, 30]]),
        )
        box = np.array([[10, 10], [120, 10], [120, 30], [10, 30]], dtype=np.float32)
        return SimpleNamespace(
            txts=("Invoice total: 42",), scores=(0.99,), boxes=np.array([box]), word_results=(words,)
        )


def test_document_qa_answers_from_ocr_words(cards: dict[str, ModelCard], make_call: MakeCall) -> None:
    card = cards["document-question-answering"]
    reader = vision_text.DocumentReader(pipeline_of(card.task, card, LoadOptions()).model, FakeOcr())
    call = make_call(card.task, {"image": "photo0.png", "text": "what is the total?"})
    out = vision_text.run_document_question_answering(reader, call)
    assert out.data["words"] == 3 and len(out.data["answers"]) == 1  # the tiny card sets top_k 1
    assert out.text == out.data["answers"][0]["answer"]
    assert out.text is not None and out.text in "Invoice total: 42"
    with pytest.raises(InputError, match="question"):
        vision_text.run_document_question_answering(
            reader, make_call(card.task, {"image": "photo0.png", "text": " "})
        )


def test_word_boxes_are_scaled_to_thousandths() -> None:
    words = [OcrWord("42", 0.9, (50.0, 10.0, 100.0, 20.0))]
    assert vision_text.word_boxes(words, 200, 40) == [("42", [250, 250, 500, 500])]


def test_read_lines_splits_lines_without_word_boxes() -> None:
    box = np.array([[[0, 0], [50, 0], [50, 10], [0, 10]]], dtype=np.float32)
    result = SimpleNamespace(txts=("ab cd",), scores=(0.9,), word_results=(), boxes=box)
    (line,) = ocr_module.read_lines(lambda image, return_word_box: result, Image.new("RGB", (60, 20)))
    assert [word.text for word in line.words] == ["ab", "cd"]
    assert line.words[0].box == (0.0, 0.0, 20.0, 10.0) and line.words[1].box[2] == 50.0


# ---------------------------------------------------------------- OCR-only answers


def _line(text: str, box: tuple[float, float, float, float], score: float = 1.0) -> OcrLine:
    return OcrLine(text, score, box, ())


def test_key_value_lines_answer_with_the_value() -> None:
    texts = ("ACME Store", "Invoice total: 42 dollars", "Date: 2026-11-30")
    lines = [_line(text, (0, 30 * row, 200, 30 * row + 20)) for row, text in enumerate(texts)]
    assert answer_from_lines("What is the total?", lines).answer == "42 dollars"
    assert answer_from_lines("which date?", lines).answer == "2026-11-30"
    found = answer_from_lines("what store is this", lines)
    assert found.answer == "ACME Store" and 0 < found.score <= 1


def test_a_bare_key_answers_with_the_value_beside_it() -> None:
    boxes = {"TOTAL": (0, 30, 60, 50), "$42.00": (150, 31, 200, 49), "Thanks": (0, 60, 60, 80)}
    lines = [_line(text, box) for text, box in boxes.items()]
    assert answer_from_lines("what is the total", lines).answer == "$42.00"


def test_no_matching_line_gives_no_answer() -> None:
    lines = [_line("ACME Store", (0, 0, 100, 20))]
    assert answer_from_lines("what is the total?", lines).answer == ""
    assert answer_from_lines("what is it?", lines).line is None
    assert keywords("What are the totals?") == {"total"}
