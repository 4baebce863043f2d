"""mediapipe 0.10.21 face detection (BlazeFace, the models ship in the wheel): faces as labelled boxes.

The output has the shape of the transformers object-detection runner: every face is an object labelled
``face`` with its score and pixel box, drawn over a copy of the image.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.drawing import draw_boxes, summarize_objects
from tools.runners.packaged.mediapipe_pose import Solution, import_mediapipe

FACE_KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear", "left_ear")
"""The six landmarks mediapipe's face detector gives each face, in its order."""


def load_face_detection(card: ModelCard, options: LoadOptions) -> Solution:
    """Create mediapipe's face detector.

    Options: ``model_selection`` (0, the default: the short-range model, faces within about 2 m; 1: the
    full-range model) and ``threshold`` (default 0.5: the least score a face needs).

    Args:
        card: the card (options).
        options: unused (mediapipe runs on the CPU).

    Returns:
        The detector (boxes are drawn with PIL, so no OpenCV module is kept).

    Raises:
        PackageMissingError: when mediapipe is not installed.
    """
    mediapipe = import_mediapipe()
    graph = mediapipe.solutions.face_detection.FaceDetection(
        model_selection=int(card.options.get("model_selection", 0)),
        min_detection_confidence=float(card.options.get("threshold", 0.5)),
    )
    return Solution(graph, cv2=None)


def face_object(detection: Any, width: int, height: int) -> dict[str, Any]:
    """Turn one mediapipe detection into an object with a pixel box clipped to the image.

    Args:
        detection: a mediapipe ``Detection`` (relative box and keypoints).
        width: the image width.
        height: the image height.

    Returns:
        ``{label: "face", score, box: {xmin, ymin, xmax, ymax}, keypoints: {name: {x, y}}}`` in pixels.
    """
    location = detection.location_data
    relative = location.relative_bounding_box
    box = {
        "xmin": _clip(relative.xmin * width, width),
        "ymin": _clip(relative.ymin * height, height),
        "xmax": _clip((relative.xmin + relative.width) * width, width),
        "ymax": _clip((relative.ymin + relative.height) * height, height),
    }
    keypoints = {
        name: {"x": round(point.x * width, 1), "y": round(point.y * height, 1)}
        for name, point in zip(FACE_KEYPOINTS, location.relative_keypoints, strict=False)
    }
    return {"label": "face", "score": float(detection.score[0]), "box": box, "keypoints": keypoints}


def _clip(value: float, limit: int) -> float:
    return round(min(max(value, 0.0), float(limit)), 1)


def run_face_detection(solution: Solution, call: Call) -> TaskOutput:
    """Find the faces in an image and save a copy with their boxes drawn.

    Args:
        solution: the face detector.
        call: args ``image``.

    Returns:
        ``data["objects"]``: the faces by falling score; ``text`` a one-line summary (``no objects found``
        when there is none); ``image`` the annotated copy.
    """
    image = call.workspace.load_image(call.args["image"])
    result = solution.process(np.asarray(image))
    faces = [face_object(found, image.width, image.height) for found in result.detections or ()]
    faces.sort(key=lambda face: -face["score"])
    path = call.workspace.save_image(draw_boxes(image, faces), call.stem)
    return TaskOutput(text=summarize_objects(faces), image=str(path), data={"objects": faces})


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call(
        "mediapipe/object-detection",
        load_face_detection,
        run_face_detection,
        load_keys=("model_selection", "threshold"),
    ),
)
