"""ControlNet annotators: ``<kind>-control`` turns an image into the condition image a ControlNet follows.

Canny and scribble are OpenCV algorithms (no weights); depth, normal and seg come from a transformers depth
or segmentation model. HED and M-LSD run ControlNet's own annotator networks (``tools.runners.hed``,
``tools.runners.mlsd``), whose weights files come from ``lllyasviel/Annotators``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from tools.models import ModelCard
from tools.runners.base import BatchSteps, Call, LoadOptions, ModelUnavailableError, Runner, TaskOutput
from tools.runners.hf_common import Loaded, read_image
from tools.runners.vision_dense import load_depth_estimation, load_image_segmentation

logger = logging.getLogger(__name__)

ADE20K_PALETTE_HEX = (
    "787878b4787806e6e650323204c8037878508c8c8ccc05ffe6e6e604fa07e005ffebff0796053d78784608ff33ff0652"
    "8fff8cccff04ff3307cc46030066c83de6faff06330b66ffff0747ff09e00907e6dcdcdcff095c7009ff08ffd607ffe0"
    "ffb8060aff47ff290a07ffffe0ff086608ffff3d06ffc207ff7a0800ff14ff0829ff05990633ffeb0cffa0961400a3ff"
    "8c8c8cfa0a0f14ff001fff00ff1f00ffe00099ff000000ffff470000ebff00adff1f00ff0bc8c8ff520000fff5003dff"
    "00ff7000ff85ff0000ffa300ff6600c2ff00008fff33ff000052ff00ff2900ffad0a00ffadff0000ff99ff5c00ff00ff"
    "ff00f5ff0066ffad00ff0014ffb8b8001fff00ff3d0047ffff00cc00ffc200ff52000aff0070ff3300ff00c2ff007aff"
    "00ffa3ff990000ff0aff70008fff005200ffa3ff00ffeb0008b8aa8500ff00ff5cb800ffff001f00b8ff00d6ffff0070"
    "5cff0000e0ff70e0ff46b8a0a300ff9900ff47ff00ff00a3ffcc00ff008f00ffeb85ff00ff00ebf500ffff007afff500"
    "0abed4d6ff0000ccff1400ffffff000099ff0029ff00ffcc2900ff29ff00ad00ff00f5ff4700ff7a00ff00ffb8005cff"
    "b8ff000085ffffd60019c2c266ff005c00ff"
)
"""The 150 ADE20K class colours (mmsegmentation's palette, the seg ControlNet's training colours), as hex."""


class NoOfflineModelError(ModelUnavailableError):
    """The task needs model weights that no installed package ships and that are not on this machine."""


def ade20k_colour(class_id: int) -> tuple[int, int, int]:
    """Return the ADE20K palette colour of a class id (ids past 149 wrap around)."""
    start = (class_id % 150) * 6
    red, green, blue = bytes.fromhex(ADE20K_PALETTE_HEX[start : start + 6])
    return red, green, blue


def _save(call: Call, pixels: np.ndarray, text: str, data: dict[str, Any]) -> TaskOutput:
    from PIL import Image

    path = call.workspace.save_image(Image.fromarray(pixels.astype(np.uint8)).convert("RGB"), call.stem)
    return TaskOutput(text=text, image=str(path), data=data)


# ---------------------------------------------------------------- canny and scribble (OpenCV, no weights)


def load_opencv(card: ModelCard, options: LoadOptions) -> Any:
    """Import OpenCV (the "model" of the algorithmic annotators).

    Args:
        card: the model card (unused: the algorithm has no weights).
        options: unused.

    Returns:
        The ``cv2`` module.
    """
    from tools.runners.packaged.common import require

    return require("cv2")


def _gray(call: Call) -> np.ndarray:
    return np.asarray(call.workspace.load_image(call.args["image"]).convert("L"))


def run_canny(cv2: Any, call: Call) -> TaskOutput:
    """Draw an image's Canny edges, white on black (options ``low_threshold`` 100, ``high_threshold`` 200).

    Args:
        cv2: the OpenCV module.
        call: args ``image``.

    Returns:
        ``image`` the edge map; ``data`` the thresholds and the share of edge pixels.
    """
    low, high = int(call.options.get("low_threshold", 100)), int(call.options.get("high_threshold", 200))
    edges = cv2.Canny(_gray(call), low, high)
    share = float((edges > 0).mean())
    data = {"low_threshold": low, "high_threshold": high, "edge_share": share}
    return _save(call, edges, f"Canny edges: {share:.1%} of the pixels", data)


def run_scribble(cv2: Any, call: Call) -> TaskOutput:
    """Draw an image as a scribble: its main edges as thick white strokes on black.

    Smooths the image, takes its Canny edges, thickens them and rounds their ends. Options: ``stroke``
    (pixels; default 1/128 of the shorter side, at least 3), ``low_threshold`` 50, ``high_threshold`` 120.

    Args:
        cv2: the OpenCV module.
        call: args ``image``.

    Returns:
        ``image`` the scribble; ``data`` the stroke width and the share of stroke pixels.
    """
    gray = _gray(call)
    stroke = int(call.options.get("stroke", max(3, round(min(gray.shape) / 128))))
    smooth = cv2.GaussianBlur(gray, (0, 0), max(1.0, stroke / 2))
    low, high = int(call.options.get("low_threshold", 50)), int(call.options.get("high_threshold", 120))
    edges = cv2.Canny(smooth, low, high)
    thick = cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (stroke, stroke)))
    rounded = cv2.GaussianBlur(thick, (0, 0), stroke / 3)
    strokes = np.where(rounded > 96, 255, 0).astype(np.uint8)
    share = float((strokes > 0).mean())
    return _save(
        call, strokes, f"scribble: {share:.1%} of the pixels", {"stroke": stroke, "stroke_share": share}
    )


# ---------------------------------------------------------------- depth and normal (a depth-estimation model)


def _infer_depth(loaded: Loaded, images: list[Any], options: dict[str, Any]) -> list[np.ndarray]:
    import torch

    with torch.inference_mode():
        results = loaded.model(images, batch_size=len(images))
    return [result["predicted_depth"].float().cpu().numpy() for result in results]


def _normalized(depth: np.ndarray) -> np.ndarray:
    low, high = float(depth.min()), float(depth.max())
    return (depth - low) / (high - low) if high > low else np.zeros_like(depth)


def finish_depth(loaded: Loaded, call: Call, depth: np.ndarray) -> TaskOutput:
    """Save a depth map as a grey image, near bright and far dark (min-max scaled, as ControlNet's MiDaS).

    Args:
        loaded: the pipeline.
        call: the call.
        depth: the model's relative (inverse) depth, the image's size.

    Returns:
        ``image`` the depth map; ``data`` the raw depth range.
    """
    grey = (_normalized(depth) * 255.0).round()
    data = {"min": float(depth.min()), "max": float(depth.max())}
    return _save(call, np.stack([grey] * 3, axis=-1), "depth map (near is bright)", data)


def _sobel(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # 3x3 Sobel with reflected borders, as OpenCV's default.
    pad = np.pad(values, 1, mode="reflect")
    rows = pad[:-2] + 2 * pad[1:-1] + pad[2:]
    cols = pad[:, :-2] + 2 * pad[:, 1:-1] + pad[:, 2:]
    return rows[:, 2:] - rows[:, :-2], cols[2:] - cols[:-2]


def finish_normal(loaded: Loaded, call: Call, depth: np.ndarray) -> TaskOutput:
    """Save a surface-normal map from depth gradients (the recipe of the normal ControlNet's model card).

    x and y are the Sobel gradients of the depth, z the constant ``2 * pi``; the background (normalized
    depth under option ``background_threshold``, default 0.4) is flat; the unit vector maps to RGB.

    Args:
        loaded: the pipeline.
        call: the call.
        depth: the model's relative (inverse) depth.

    Returns:
        ``image`` the normal map.
    """
    gx, gy = _sobel(depth.astype(np.float32))
    background = _normalized(depth) < float(call.options.get("background_threshold", 0.4))
    gx[background], gy[background] = 0.0, 0.0
    normal = np.stack([gx, gy, np.full_like(gx, 2.0 * np.pi)], axis=-1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    pixels = np.clip(normal * 127.5 + 127.5, 0, 255)
    return _save(call, pixels, "surface-normal map", {"background_share": float(background.mean())})


# ---------------------------------------------------------------- seg (a semantic segmentation model)


def _infer_segments(loaded: Loaded, images: list[Any], options: dict[str, Any]) -> list[Any]:
    import torch

    with torch.inference_mode():
        return list(loaded.model(images, batch_size=len(images)))


def finish_seg(loaded: Loaded, call: Call, segments: list[dict[str, Any]]) -> TaskOutput:
    """Paint each segment in its class's ADE20K colour on black.

    Args:
        loaded: the pipeline (its model's ``label2id`` gives the class ids).
        call: the call.
        segments: the pipeline's ``{label, score, mask}`` list for this image.

    Returns:
        ``image`` the colour map; ``data["segments"]`` ``{label, share}`` by falling share.
    """
    label2id = loaded.model.model.config.label2id or {}
    width, height = (
        segments[0]["mask"].size if segments else call.workspace.load_image(call.args["image"]).size
    )
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    found: list[dict[str, Any]] = []
    for index, segment in enumerate(segments):
        mask = np.asarray(segment["mask"]) > 127
        canvas[mask] = ade20k_colour(int(label2id.get(segment["label"], index)))
        found.append({"label": str(segment["label"]), "share": float(mask.mean())})
    found.sort(key=lambda item: -item["share"])
    text = ", ".join(f"{item['label']} ({item['share']:.0%})" for item in found) or "no segments"
    return _save(call, canvas, text, {"segments": found})


_DEPTH_SHARED = "transformers/depth-annotator"

RUNNERS: tuple[Runner, ...] = (
    Runner.per_call("opencv/canny-control", load_opencv, run_canny),
    Runner.per_call("opencv/scribble-control", load_opencv, run_scribble),
    Runner.batched(
        "transformers/depth-control",
        load_depth_estimation,
        BatchSteps(read_image, _infer_depth, finish_depth),
        shares=_DEPTH_SHARED,
    ),
    Runner.batched(
        "transformers/normal-control",
        load_depth_estimation,
        BatchSteps(read_image, _infer_depth, finish_normal),
        shares=_DEPTH_SHARED,
    ),
    Runner.batched(
        "transformers/seg-control",
        load_image_segmentation,
        BatchSteps(read_image, _infer_segments, finish_seg),
    ),
)
