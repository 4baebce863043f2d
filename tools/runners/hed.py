"""hed-control: soft HED boundaries from ControlNet's own HED network (``ControlNetHED.pth``), in plain torch.

The network is ControlNet 1.1's Apache-2.0 HED re-implementation: five VGG-style blocks, each with a 1x1
projection to an edge map; the five maps, upsampled to the image size, are averaged and squashed by a sigmoid.
As ControlNet's ``HEDdetector``, it sees the image with its shorter side at 512 (``detect_resolution``).
Its weights are ``ControlNetHED.pth`` in ``lllyasviel/Annotators`` on the Hub: the card's folder holds the
file, or the hub id is read from the Hugging Face cache. No installed package ships it.
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

TASK = "hed-control"
WEIGHTS_FILE = "ControlNetHED.pth"
BLOCKS = ((3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3))
"""(input channels, output channels, convolutions) of the five blocks."""


def build_hed_network() -> Any:
    """Return an untrained ControlNet HED network (a torch module whose state dict matches the weights file).

    Returns:
        The module: input ``(N, 3, H, W)`` RGB in 0-255, output five ``(N, 1, h, w)`` edge logit maps.
    """
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, inputs: int, outputs: int, convolutions: int) -> None:
            super().__init__()
            self.convs = nn.Sequential(
                *(
                    nn.Conv2d(inputs if i == 0 else outputs, outputs, 3, padding=1)
                    for i in range(convolutions)
                )
            )
            self.projection = nn.Conv2d(outputs, 1, 1)

        def forward(self, x: Any, down: bool) -> tuple[Any, Any]:
            h = nn.functional.max_pool2d(x, 2, 2) if down else x
            for conv in self.convs:
                h = nn.functional.relu(conv(h))
            return h, self.projection(h)

    class Hed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.Parameter(torch.zeros(1, 3, 1, 1))
            for index, shape in enumerate(BLOCKS, start=1):
                self.add_module(f"block{index}", Block(*shape))

        def forward(self, x: Any) -> list[Any]:
            h, maps = x - self.norm, []
            for index in range(1, len(BLOCKS) + 1):
                h, edges = getattr(self, f"block{index}")(h, down=index > 1)
                maps.append(edges)
            return maps

    return Hed()


def load_hed(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load the HED network and its weights (option ``weights_file``, default ``ControlNetHED.pth``).

    Args:
        card: a folder with the weights file, or the hub id ``lllyasviel/Annotators`` (read from the cache).
        options: the device (the network runs in float32).

    Returns:
        The network, in eval mode, on its device.

    Raises:
        NoOfflineModelError: when the weights file cannot be had offline.
    """
    import torch

    network = build_hed_network()
    weights = torch.load(weights_path(card, TASK, WEIGHTS_FILE), map_location="cpu", weights_only=True)
    network.load_state_dict(weights, strict=True)
    return Loaded(model=network.to(options.device).eval(), device=options.device)


def edge_strength(loaded: Loaded, cv2: Any, image: np.ndarray) -> np.ndarray:
    """Return HED's edge strength (0-1) at the image's size: the sigmoid of its five edge maps' mean.

    As ControlNet's ``HEDdetector``: each map is resized to the image (bilinear) before they are averaged.

    Args:
        loaded: the HED network.
        cv2: the OpenCV module.
        image: ``(H, W, 3)`` uint8 RGB.

    Returns:
        ``(H, W)`` float64 in 0-1.
    """
    import torch

    height, width = image.shape[:2]
    with torch.inference_mode():
        batch = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None].to(loaded.device)
        maps = [edges[0, 0].float().cpu().numpy() for edges in loaded.model(batch)]
    resized = [cv2.resize(edges, (width, height), interpolation=cv2.INTER_LINEAR) for edges in maps]
    mean = np.mean(np.stack(resized, axis=2), axis=2).astype(np.float64)
    with np.errstate(over="ignore"):  # exp overflows to inf for strong non-edges: the sigmoid is then 0
        return np.asarray(1.0 / (1.0 + np.exp(-mean)))


def run_hed(loaded: Loaded, call: Call) -> TaskOutput:
    """Draw an image's soft HED boundaries, white on black (the hed ControlNet's condition image).

    The network sees the image as ControlNet's annotator resizes it (shorter side ``detect_resolution``,
    default 512, sides multiples of 64); the boundary map is resized back to the input's size.

    Args:
        loaded: the HED network.
        call: args ``image``.

    Returns:
        ``image`` the boundary map, the input's size; ``data`` its mean edge strength (0-1).

    Raises:
        InputError: when the image is missing or unreadable, or ``detect_resolution`` is malformed.
    """
    from PIL import Image

    from tools.runners.packaged.common import require

    cv2 = require("cv2")
    if not call.args.get("image"):
        raise InputError(f"{TASK} needs an image")
    original = np.asarray(call.workspace.load_image(call.args["image"]), dtype=np.uint8)
    detected = resize_for_detection(cv2, original, detect_resolution(call.options))
    strength = edge_strength(loaded, cv2, detected)
    grey = (strength * 255.0).clip(0, 255).astype(np.uint8)
    height, width = original.shape[:2]
    resized = cv2.resize(np.stack([grey] * 3, axis=-1), (width, height), interpolation=cv2.INTER_LINEAR)
    path = call.workspace.save_image(Image.fromarray(np.asarray(resized, dtype=np.uint8)), call.stem)
    return TaskOutput(text="soft HED boundaries", image=str(path), data={"mean_edge": float(strength.mean())})


RUNNERS: tuple[Runner, ...] = (Runner.per_call("transformers/hed-control", load_hed, run_hed),)
