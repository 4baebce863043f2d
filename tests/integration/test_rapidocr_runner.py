"""The rapidocr runners on a rendered receipt: the real OCR engine, weights from its wheel."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from tools.artifacts import InputError, Workspace
from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions
from tools.runners.packaged.rapidocr import RUNNERS, read_lines

pytestmark = pytest.mark.slow

RECEIPT_LINES = ("ACME Store", "Invoice total: 42 dollars", "Date: 2026-11-30")
RUNNER = {runner.name: runner for runner in RUNNERS}["rapidocr/document-question-answering"]


def _import_failure() -> str | None:
    """Return why the real OCR engine cannot be imported, or None when it can."""
    try:
        import onnxruntime  # noqa: F401
        import rapidocr  # noqa: F401
    except ImportError as error:
        return f"rapidocr cannot be imported ({error}); install the project's 'offline' extra"
    return None


if (_reason := _import_failure()) is not None:
    pytest.skip(_reason, allow_module_level=True)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("ocr")
    image = Image.new("RGB", (900, 260), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    for row, text in enumerate(RECEIPT_LINES):
        draw.text((30, 30 + 70 * row), text, fill="black", font=font)
    image.save(root / "receipt.png")
    return Workspace(root / "run", base=root)


@pytest.fixture(scope="module")
def engine() -> Any:
    card = ModelCard(id="rapidocr PP-OCRv6 (packaged)", task="document-question-answering", source="package")
    return RUNNER.load(card, LoadOptions())


def _ask(engine: Any, workspace: Workspace, question: str, image: str = "receipt.png") -> Any:
    call = Call(args={"image": image, "text": question}, workspace=workspace, stem="ocr-qa")
    return RUNNER.run(engine, call)


def test_reads_every_line_with_word_boxes(engine: Any, workspace: Workspace) -> None:
    lines = read_lines(engine, workspace.load_image("receipt.png"))
    assert [line.text for line in lines] == list(RECEIPT_LINES)
    total = lines[1]
    assert [word.text for word in total.words][-2:] == ["42", "dollars"]
    assert all(total.box[0] - 2 <= word.box[0] < word.box[2] <= total.box[2] + 2 for word in total.words)


def test_answers_the_total(engine: Any, workspace: Workspace) -> None:
    out = _ask(engine, workspace, "What is the total?")
    assert out.text is not None and "42" in out.text
    assert out.data["line"]["text"] == "Invoice total: 42 dollars"
    assert 0 < out.data["score"] <= 1 and len(out.data["lines"]) == 3


def test_says_when_no_line_matches(engine: Any, workspace: Workspace) -> None:
    out = _ask(engine, workspace, "who signed the contract?")
    assert out.data["answer"] == "" and out.text == "no line of the document matches the question"


def test_bad_inputs_are_input_errors(engine: Any, workspace: Workspace) -> None:
    with pytest.raises(InputError, match="not found"):
        _ask(engine, workspace, "what is the total?", image="missing.png")
    with pytest.raises(InputError, match="question"):
        _ask(engine, workspace, "  ")


def test_answers_the_date(engine: Any, workspace: Workspace) -> None:
    out = _ask(engine, workspace, "what is the date?")
    assert out.text == "2026-11-30"


def test_layoutlm_runner_reads_the_words_with_rapidocr(
    workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.fixtures.tiny_vision import build_tiny_vision_models
    from tools.runners.vision_text import RUNNERS as VISION_TEXT_RUNNERS

    entries = build_tiny_vision_models(tmp_path_factory.mktemp("tiny-vision"))
    card = next(ModelCard(**e) for e in entries if e["task"] == "document-question-answering")
    runner = {r.name: r for r in VISION_TEXT_RUNNERS}[card.runner_name]
    call = Call({"image": "receipt.png", "text": "what is the total?"}, workspace, "dqa", dict(card.options))
    out = runner.run(runner.load(card, LoadOptions()), call)
    assert out.data["words"] == 8  # ACME Store / Invoice total: 42 dollars / Date: 2026-11-30
    assert out.data["answers"] and isinstance(out.text, str)  # random weights: any span of the words
