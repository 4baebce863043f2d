"""mediapipe 0.10.21 (models inside the wheel): an OpenPose-style pose image, and person segmentation.

The pose landmarker's 33 points are mapped to the 18 COCO keypoints OpenPose uses (the neck is the middle of
the shoulders) and drawn as the OpenPose skeleton, in its standard colours, on black: the condition image
that the openpose ControlNet was trained on.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.packaged.common import require

logger = logging.getLogger(__name__)

KEYPOINTS = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip
"""The 18 OpenPose (COCO) keypoints, in OpenPose's order."""

MEDIAPIPE_INDEX = (0, None, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7)
"""For each OpenPose keypoint, its mediapipe pose landmark (None: the neck, from both shoulders)."""

LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip
"""The 17 OpenPose limbs, as keypoint pairs (OpenPose's ``limbSeq``, 0-based)."""

COLOURS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)  # fmt: skip
"""OpenPose's RGB colour of each keypoint, and of the limb of the same index."""

PERSON_COLOUR = (255, 64, 64)


@dataclass
class Solution:
    """A mediapipe solution object with the lock that keeps it to one image at a time.

    Attributes:
        graph: the ``mp.solutions`` object (its ``process(rgb)`` runs the model).
        cv2: the OpenCV module, for drawing.
        lock: held while ``graph`` runs.
    """

    graph: Any
    cv2: Any
    lock: threading.Lock = field(default_factory=threading.Lock)

    def process(self, rgb: np.ndarray) -> Any:
        """Run the solution on one RGB uint8 image and return mediapipe's result."""
        with self.lock:
            return self.graph.process(rgb)


# ---------------------------------------------------------------- openpose-control


def import_mediapipe() -> Any:
    """Import mediapipe 0.10.21 under protobuf 6 (which langgraph-api needs).

    mediapipe calls ``GetPrototype`` on protobuf's symbol database and message factory, which protobuf 5
    removed; the same class comes from ``message_factory.GetMessageClass``, so the method is put back where it
    is missing.
    """
    from google.protobuf import message_factory, symbol_database

    for owner in (symbol_database.SymbolDatabase, message_factory.MessageFactory):
        if not hasattr(owner, "GetPrototype"):
            owner.GetPrototype = lambda self, descriptor: message_factory.GetMessageClass(descriptor)
    return require("mediapipe")


def load_pose(card: ModelCard, options: LoadOptions) -> Solution:
    """Create mediapipe's pose landmarker (``model_complexity=1``, the one the wheel ships).

    Options: ``min_detection_confidence`` (default 0.5).

    Args:
        card: the card (options).
        options: unused (mediapipe runs on the CPU).

    Returns:
        The solution.
    """
    mediapipe = import_mediapipe()
    graph = mediapipe.solutions.pose.Pose(
        static_image_mode=True,
        model_complexity=1,
        min_detection_confidence=float(card.options.get("min_detection_confidence", 0.5)),
    )
    return Solution(graph, require("cv2"))


def openpose_keypoints(landmarks: Any, width: int, height: int, threshold: float) -> list[Any]:
    """Map mediapipe's 33 pose landmarks to the 18 OpenPose keypoints in pixels.

    Args:
        landmarks: mediapipe's ``pose_landmarks.landmark`` (normalised x, y and a visibility).
        width: the image width.
        height: the image height.
        threshold: the least visibility a keypoint needs to count.

    Returns:
        18 entries, ``(x, y, visibility)`` or None for a keypoint not seen.
    """
    points: list[Any] = []
    for index in MEDIAPIPE_INDEX:
        if index is None:
            left, right = landmarks[11], landmarks[12]
            x, y = (left.x + right.x) / 2, (left.y + right.y) / 2
            visibility = min(left.visibility, right.visibility)
        else:
            mark = landmarks[index]
            x, y, visibility = mark.x, mark.y, mark.visibility
        inside = 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0
        points.append(
            (x * width, y * height, float(visibility)) if inside and visibility >= threshold else None
        )
    return points


def draw_openpose(cv2: Any, points: list[Any], width: int, height: int) -> np.ndarray:
    """Draw keypoints as the OpenPose skeleton on black: translucent ellipse limbs, then round joints.

    Args:
        cv2: the OpenCV module.
        points: 18 ``(x, y, visibility)`` or None.
        width: the canvas width.
        height: the canvas height.

    Returns:
        An RGB uint8 array ``(height, width, 3)``.
    """
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    scale = max(1.0, max(width, height) / 512)
    stick, radius = round(4 * scale), round(4 * scale)
    for limb, (start, end) in enumerate(LIMBS):
        if points[start] is None or points[end] is None:
            continue
        (x0, y0, _), (x1, y1, _) = points[start], points[end]
        length = math.hypot(x1 - x0, y1 - y0)
        angle = math.degrees(math.atan2(y0 - y1, x0 - x1))
        centre = (round((x0 + x1) / 2), round((y0 + y1) / 2))
        polygon = cv2.ellipse2Poly(centre, (round(length / 2), stick), round(angle), 0, 360, 1)
        layer = canvas.copy()
        cv2.fillConvexPoly(layer, polygon, COLOURS[limb])
        canvas = cv2.addWeighted(canvas, 0.4, layer, 0.6, 0)
    for index, point in enumerate(points):
        if point is not None:
            cv2.circle(canvas, (round(point[0]), round(point[1])), radius, COLOURS[index], thickness=-1)
    return canvas


def run_openpose(solution: Solution, call: Call) -> TaskOutput:
    """Draw the pose of the person in an image as an OpenPose skeleton (option ``min_visibility`` 0.5).

    Args:
        solution: the pose landmarker.
        call: args ``image``.

    Returns:
        ``image`` the skeleton on black (all black when no person is found); ``data["keypoints"]`` the
        keypoints found, ``{name, x, y, visibility}`` in pixels.
    """
    from PIL import Image

    image = call.workspace.load_image(call.args["image"])
    result = solution.process(np.asarray(image))
    points: list[Any] = [None] * len(KEYPOINTS)
    if result.pose_landmarks is not None:
        threshold = float(call.options.get("min_visibility", 0.5))
        points = openpose_keypoints(result.pose_landmarks.landmark, image.width, image.height, threshold)
    found = [
        {"name": name, "x": round(point[0], 1), "y": round(point[1], 1), "visibility": round(point[2], 3)}
        for name, point in zip(KEYPOINTS, points, strict=True)
        if point is not None
    ]
    canvas = draw_openpose(solution.cv2, points, image.width, image.height)
    path = call.workspace.save_image(Image.fromarray(canvas), call.stem)
    text = f"pose: {len(found)} of {len(KEYPOINTS)} keypoints" if found else "no person found"
    return TaskOutput(text=text, image=str(path), data={"keypoints": found})


# ---------------------------------------------------------------- image-segmentation (person vs background)


def load_selfie_segmentation(card: ModelCard, options: LoadOptions) -> Solution:
    """Create mediapipe's selfie segmentation (option ``model_selection``: 0 general, 1 landscape).

    Args:
        card: the card (options).
        options: unused (mediapipe runs on the CPU).

    Returns:
        The solution.
    """
    mediapipe = import_mediapipe()
    selection = int(card.options.get("model_selection", 0))
    graph = mediapipe.solutions.selfie_segmentation.SelfieSegmentation(model_selection=selection)
    return Solution(graph, require("cv2"))


def run_person_segmentation(solution: Solution, call: Call) -> TaskOutput:
    """Split an image into person and background; save the person mask tinted over the image.

    Option ``threshold`` (default 0.5): the least mask value a person pixel has.

    Args:
        solution: the selfie segmentation.
        call: args ``image``.

    Returns:
        ``image`` the overlay; ``text`` the person's share; ``data["segments"]`` ``{label, score, share}``
        for person and background (score: the mean mask confidence inside the segment).
    """
    from PIL import Image

    image = call.workspace.load_image(call.args["image"])
    rgb = np.asarray(image)
    confidence = np.asarray(solution.process(rgb).segmentation_mask, dtype=np.float32)
    person = confidence >= float(call.options.get("threshold", 0.5))
    overlay = rgb.astype(np.float32)
    overlay[person] = 0.5 * overlay[person] + 0.5 * np.array(PERSON_COLOUR, dtype=np.float32)
    path = call.workspace.save_image(Image.fromarray(overlay.round().astype(np.uint8)), call.stem)
    segments = [
        _segment("person", person, confidence),
        _segment("background", ~person, 1.0 - confidence),
    ]
    share = segments[0]["share"]
    text = f"person ({share:.0%} of the image)" if person.any() else "no person found"
    return TaskOutput(text=text, image=str(path), data={"segments": segments})


def _segment(label: str, mask: np.ndarray, confidence: np.ndarray) -> dict[str, Any]:
    score = float(confidence[mask].mean()) if mask.any() else 0.0
    return {"label": label, "score": round(score, 4), "share": round(float(mask.mean()), 4)}


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call(
        "mediapipe/openpose-control", load_pose, run_openpose, load_keys=("min_detection_confidence",)
    ),
    Runner.per_call(
        "mediapipe/image-segmentation",
        load_selfie_segmentation,
        run_person_segmentation,
        load_keys=("model_selection",),
    ),
)
