"""mlsd-control: M-LSD's straight line segments, white on black (the mlsd ControlNet's condition image).

This is ControlNet's M-LSD annotator (``MLSDdetector`` in ``controlnet_aux``): the image is resized so its
shorter side is 512 (sides rounded to multiples of 64), the ``MobileV2_MLSD_Large`` network
(``tools.runners.mlsd_network``) predicts line centres and end displacements at half that size, the local
maxima above ``thr_v`` whose segments are longer than ``thr_d`` become lines, and they are drawn 1 px wide.
The weights are ``mlsd_large_512_fp32.pth`` in ``lllyasviel/Annotators`` on the Hub: the card's folder holds
the file, or the hub id is read from the Hugging Face cache. No installed package ships it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.runners.annotator_files import detect_resolution, resize_for_detection, weights_path
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.hf_common import Loaded

logger = logging.getLogger(__name__)

TASK = "mlsd-control"
WEIGHTS_FILE = "mlsd_large_512_fp32.pth"
SCORE_THRESHOLD = 0.1
"""``thr_v``: the least centre score (sigmoid) of a kept line."""
DISTANCE_THRESHOLD = 0.1
"""``thr_d``: the least length of a kept line, in output-map pixels (the default keeps nearly all)."""
TOP_CANDIDATES = 200
PEAK_WINDOW = 3


def load_mlsd(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load the M-LSD network and its weights (option ``weights_file``, default ``mlsd_large_512_fp32.pth``).

    Args:
        card: a folder with the weights file, or the hub id ``lllyasviel/Annotators`` (read from the cache).
        options: the device (the network runs in float32).

    Returns:
        The network, in eval mode, on its device.

    Raises:
        NoOfflineModelError: when the weights file cannot be had offline, saying how to get it.
    """
    import torch

    from tools.runners.mlsd_network import build_mlsd_network

    path = weights_path(card, TASK, WEIGHTS_FILE)
    network = build_mlsd_network()
    network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    logger.info("M-LSD weights loaded from %s", path)
    return Loaded(model=network.to(options.device).eval(), device=options.device)


def network_input(image: np.ndarray) -> Any:
    """Return M-LSD's input for an RGB image: RGB and a channel of ones, in [-1, 1], as ``(1, 4, H, W)``.

    Args:
        image: ``(H, W, 3)`` uint8, sides multiples of 32.
    """
    import torch

    planes = np.concatenate([image.astype(np.float32), np.ones((*image.shape[:2], 1), np.float32)], axis=-1)
    return torch.from_numpy(planes.transpose(2, 0, 1)[None] / 127.5 - 1.0).float()


def decode_lines(
    output: Any,
    score_threshold: float = SCORE_THRESHOLD,
    distance_threshold: float = DISTANCE_THRESHOLD,
) -> np.ndarray:
    """Turn the network's output maps into line segments (M-LSD's ``deccode_output_score_and_ptss`` + filter).

    The centre map's local maxima (3x3) are ranked; the best 200 whose score passes ``score_threshold`` and
    whose segment is longer than ``distance_threshold`` give a line from their two displacements.

    Args:
        output: the network's ``(1, 9, h, w)`` output tensor.
        score_threshold: the least centre score (``thr_v``).
        distance_threshold: the least segment length in output-map pixels (``thr_d``).

    Returns:
        ``(n, 4)`` floats ``x_start, y_start, x_end, y_end`` in network-input pixels (twice the map's).
    """
    import torch

    _, _, height, width = output.shape
    heat = torch.sigmoid(output[:, 0])
    peaks = torch.nn.functional.max_pool2d(heat, PEAK_WINDOW, stride=1, padding=(PEAK_WINDOW - 1) // 2)
    heat = (heat * (peaks == heat).float()).reshape(-1)
    scores, indices = torch.topk(heat, min(TOP_CANDIDATES, heat.numel()), dim=-1, largest=True)
    rows, cols = (indices // width).cpu().numpy(), (indices % width).cpu().numpy()
    displacement = output[0, 1:5].permute(1, 2, 0).cpu().numpy()[rows, cols]
    lengths = np.sqrt(((displacement[:, :2] - displacement[:, 2:]) ** 2).sum(axis=-1))
    keep = (scores.cpu().numpy() > score_threshold) & (lengths > distance_threshold)
    starts_and_ends = displacement + np.stack([cols, rows, cols, rows], axis=-1)
    return np.asarray(2.0 * starts_and_ends[keep], dtype=np.float64).reshape(-1, 4)


def pred_lines(
    loaded: Loaded,
    image: np.ndarray,
    score_threshold: float = SCORE_THRESHOLD,
    distance_threshold: float = DISTANCE_THRESHOLD,
) -> np.ndarray:
    """Return the line segments M-LSD finds in an image at its own size (as ControlNet's annotator calls it).

    Args:
        loaded: the M-LSD network.
        image: ``(H, W, 3)`` uint8 RGB, sides multiples of 32.
        score_threshold: ``thr_v``.
        distance_threshold: ``thr_d``.

    Returns:
        ``(n, 4)`` segments ``x_start, y_start, x_end, y_end`` in the image's pixels.
    """
    import torch

    with torch.inference_mode():
        output = loaded.model(network_input(image).to(loaded.device))
        return decode_lines(output.float(), score_threshold, distance_threshold)


def draw_lines(cv2: Any, lines: np.ndarray, height: int, width: int) -> np.ndarray:
    """Draw segments 1 px wide, white on black, ends truncated to whole pixels (as ControlNet does).

    Returns:
        ``(height, width)`` uint8.
    """
    canvas = np.zeros((height, width), dtype=np.uint8)
    for line in lines:
        x_start, y_start, x_end, y_end = (int(value) for value in line)
        cv2.line(canvas, (x_start, y_start), (x_end, y_end), 255, 1)
    return canvas


def _threshold(call: Call, name: str, default: float) -> float:
    value = call.options.get(name, default)
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"{name} must be a number, not {value!r}") from error


def run_mlsd(loaded: Loaded, call: Call) -> TaskOutput:
    """Draw an image's straight line segments, white on black, the input's size.

    Options: ``thr_v`` (0.1), ``thr_d`` (0.1), ``detect_resolution`` (512).

    Args:
        loaded: the M-LSD network.
        call: args ``image``.

    Returns:
        ``image`` the line map (PNG); ``data`` ``lines`` (``[x_start, y_start, x_end, y_end]`` in the input's
        pixels) and ``count``.

    Raises:
        InputError: when the image is missing or unreadable, or an option is malformed.
    """
    from PIL import Image

    from tools.runners.packaged.common import require

    cv2 = require("cv2")
    if not call.args.get("image"):
        raise InputError(f"{TASK} needs an image")
    original = np.asarray(call.workspace.load_image(call.args["image"]), dtype=np.uint8)
    detected = resize_for_detection(cv2, original, detect_resolution(call.options))
    lines = pred_lines(
        loaded,
        detected,
        _threshold(call, "thr_v", SCORE_THRESHOLD),
        _threshold(call, "thr_d", DISTANCE_THRESHOLD),
    )
    lines_map = draw_lines(cv2, lines, *detected.shape[:2])
    height, width = original.shape[:2]
    resized = cv2.resize(np.stack([lines_map] * 3, axis=-1), (width, height), interpolation=cv2.INTER_LINEAR)
    path = call.workspace.save_image(Image.fromarray(np.asarray(resized, dtype=np.uint8)), call.stem)
    scale = np.array([width, height, width, height]) / np.array([*detected.shape[1::-1]] * 2)
    found = [[round(float(value), 1) for value in line] for line in lines * scale]
    return TaskOutput(
        text=f"{len(found)} straight line segments (M-LSD)",
        image=str(path),
        data={"lines": found, "count": len(found)},
    )


RUNNERS: tuple[Runner, ...] = (Runner.per_call("transformers/mlsd-control", load_mlsd, run_mlsd),)
