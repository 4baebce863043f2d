"""Offline annotators on a real photo (scikit-image's astronaut): OpenCV edges, mediapipe pose, person."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from PIL import Image

from tools.artifacts import Workspace
from tools.models import ModelCard
from tools.runners import annotators
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.packaged import mediapipe_pose

pytestmark = pytest.mark.slow

RUNNERS = {runner.name: runner for runner in (*annotators.RUNNERS, *mediapipe_pose.RUNNERS)}


def needs(*modules: str) -> None:
    """Skip unless every module can be imported (mediapipe also needs protobuf 4.x)."""
    for name in modules:
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not installed (the 'offline' extra)")
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - any import failure means: cannot test here
            pytest.skip(f"{name} cannot be imported: {error}")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image ships the astronaut photo")
    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(skimage_data.astronaut()).save(folder / "astronaut.png")
    Image.new("RGB", (64, 48), (90, 90, 90)).save(folder / "blank.png")
    return Workspace(folder / "ws", base=folder)


def _run(name: str, workspace: Workspace, image: str, task: str) -> tuple[TaskOutput, np.ndarray]:
    runner: Runner = RUNNERS[name]
    card = ModelCard(id=name, task=task, source="package", package=name.split("/")[0])
    output = runner.run(runner.load(card, LoadOptions()), Call({"image": image}, workspace, task))
    assert output.image is not None
    with Image.open(output.image) as picture:
        assert picture.format == "PNG"
        assert picture.size == workspace.load_image(image).size
        return output, np.asarray(picture.convert("RGB"))


def test_canny_edges(workspace: Workspace) -> None:
    needs("cv2")
    output, pixels = _run("opencv/canny-control", workspace, "astronaut.png", "canny-control")
    assert set(np.unique(pixels)) == {0, 255}
    assert 0.01 < output.data["edge_share"] < 0.3


def test_scribble_strokes_are_thicker_than_edges(workspace: Workspace) -> None:
    needs("cv2")
    canny, _ = _run("opencv/canny-control", workspace, "astronaut.png", "canny-control")
    scribble, pixels = _run("opencv/scribble-control", workspace, "astronaut.png", "scribble-control")
    assert set(np.unique(pixels)) == {0, 255}
    assert scribble.data["stroke_share"] > canny.data["edge_share"]


def test_openpose_finds_the_astronaut(workspace: Workspace) -> None:
    needs("cv2", "mediapipe")
    output, pixels = _run("mediapipe/openpose-control", workspace, "astronaut.png", "openpose-control")
    names = {point["name"] for point in output.data["keypoints"]}
    assert {"nose", "neck", "right_shoulder", "left_shoulder"} <= names
    assert (pixels.sum(axis=-1) > 0).mean() > 0.002  # a skeleton is drawn
    colours = {tuple(colour) for colour in pixels[pixels.sum(axis=-1) > 0]}
    assert mediapipe_pose.COLOURS[0] in colours  # the nose joint, in OpenPose red


def test_openpose_on_an_empty_scene_draws_nothing(workspace: Workspace) -> None:
    needs("cv2", "mediapipe")
    output, pixels = _run("mediapipe/openpose-control", workspace, "blank.png", "openpose-control")
    assert output.text == "no person found" and not pixels.any()


def test_person_segmentation(workspace: Workspace) -> None:
    needs("cv2", "mediapipe")
    output, _ = _run("mediapipe/image-segmentation", workspace, "astronaut.png", "image-segmentation")
    person, background = output.data["segments"]
    assert person["label"] == "person" and 0.3 < person["share"] < 0.8
    assert abs(person["share"] + background["share"] - 1.0) < 1e-3
    assert output.text is not None and output.text.startswith("person (")


def test_image_path_is_checked(workspace: Workspace) -> None:
    needs("cv2")
    from tools.artifacts import InputError

    with pytest.raises(InputError, match="not found"):
        _run("opencv/canny-control", workspace, "missing.png", "canny-control")
