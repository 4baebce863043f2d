"""VADER sentiment and mediapipe face detection: packaged runners on real sentences and a real photo."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from typing import Any

import pytest

from tools.artifacts import InputError, Workspace
from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.packaged import mediapipe_faces, vader

VADER = vader.RUNNERS[0]
FACES = mediapipe_faces.RUNNERS[0]


def needs(*modules: str) -> None:
    """Skip unless every module is installed."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (the 'offline' extra)")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("packaged-extra")
    return Workspace(root / "run", base=root)


@pytest.fixture(scope="module")
def sentiment() -> Any:
    needs("vaderSentiment")
    return VADER.load(ModelCard("vader", "text-classification", source="package"), LoadOptions())


@pytest.fixture(scope="module")
def faces() -> Any:
    needs("mediapipe", "cv2")
    return FACES.load(
        ModelCard("mediapipe/face-detection", "object-detection", source="package"), LoadOptions()
    )


def call(workspace: Workspace, **args: str) -> Call:
    return Call(args=args, workspace=workspace, stem="test", options={})


def run(runner: Runner, model: Any, workspace: Workspace, **args: str) -> TaskOutput:
    return runner.run(model, call(workspace, **args))


def test_importing_the_runners_imports_no_library() -> None:
    code = (
        "import sys, tools.runners.packaged.vader, tools.runners.packaged.mediapipe_faces\n"
        "print(sorted({'mediapipe', 'cv2', 'vaderSentiment', 'torch'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_vader_labels_clear_sentences(sentiment: Any, workspace: Workspace) -> None:
    good = run(VADER, sentiment, workspace, text="I love this picture, it is great!")
    assert good.data["labels"][0]["label"] == "positive" and good.data["compound"] > 0.5
    assert {item["label"] for item in good.data["labels"]} == {"positive", "neutral", "negative"}
    assert sum(item["score"] for item in good.data["labels"]) == pytest.approx(1.0, abs=0.01)
    assert good.text and good.text.startswith("positive (0.") and "neutral (" in good.text

    bad = run(VADER, sentiment, workspace, text="This is terrible and sad.")
    assert bad.data["labels"][0]["label"] == "negative" and bad.data["compound"] < -0.5
    assert bad.text and bad.text.startswith("negative (")

    flat = run(VADER, sentiment, workspace, text="The table is in the kitchen.")
    assert flat.data["labels"][0]["label"] == "neutral"


def test_vader_batch_matches_single_calls_and_keeps_errors_apart(
    sentiment: Any, workspace: Workspace
) -> None:
    texts = ["What a wonderful day!", "", "I hate waiting in the rain."]
    outcomes = VADER.forward(sentiment, [call(workspace, text=text) for text in texts])
    assert len(outcomes) == 3
    assert isinstance(outcomes[1], InputError) and "text" in str(outcomes[1])
    for text, outcome in zip(texts, outcomes, strict=True):
        if text:
            assert isinstance(outcome, TaskOutput)
            assert outcome.data == run(VADER, sentiment, workspace, text=text).data


def test_vader_top_k_and_threshold_options(sentiment: Any, workspace: Workspace) -> None:
    options = {"top_k": 1, "compound_threshold": 0.99}
    output = VADER.run(
        sentiment, Call(args={"text": "It is good."}, workspace=workspace, stem="t", options=options)
    )
    assert [item["label"] for item in output.data["labels"]] == ["neutral"]


def test_face_detection_finds_the_astronaut(faces: Any, workspace: Workspace) -> None:
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    path = workspace.base / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    output = run(FACES, faces, workspace, image=str(path))

    (face,) = output.data["objects"]
    assert face["label"] == "face" and 0.5 < face["score"] <= 1.0
    box = face["box"]
    width, height = box["xmax"] - box["xmin"], box["ymax"] - box["ymin"]
    assert 50 < width < 160 and 50 < height < 160  # a head in a 512 px portrait
    assert box["xmin"] < 224 < box["xmax"] and box["ymin"] < 113 < box["ymax"]  # around OpenCV's face centre
    assert set(face["keypoints"]) == set(mediapipe_faces.FACE_KEYPOINTS)
    assert output.text and output.text.startswith("1 object: face (0.")
    assert output.image is not None
    with Image.open(output.image) as drawn:
        assert drawn.size == (512, 512)


def test_face_detection_on_a_blank_image_finds_none(faces: Any, workspace: Workspace) -> None:
    from PIL import Image

    path = workspace.base / "blank.png"
    Image.new("RGB", (320, 240), "white").save(path)
    output = run(FACES, faces, workspace, image=str(path))
    assert output.data["objects"] == [] and output.text == "no objects found"
    assert output.image is not None
    with Image.open(output.image) as drawn:
        assert drawn.size == (320, 240)


def test_face_detection_rejects_a_file_that_is_no_image(faces: Any, workspace: Workspace) -> None:
    path = workspace.base / "notes.txt"
    path.write_text("not an image", encoding="utf-8")
    with pytest.raises(InputError, match="notes.txt"):
        run(FACES, faces, workspace, image=str(path))
