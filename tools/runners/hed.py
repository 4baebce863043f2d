"""hed-control: soft HED boundaries from ControlNet's own HED network (``ControlNetHED.pth``), in plain torch.

The network is ControlNet 1.1's Apache-2.0 HED re-implementation: five VGG-style blocks, each with a 1x1
projection to an edge map; the five maps, upsampled to the image size, are averaged and squashed by a sigmoid.
Its weights are ``ControlNetHED.pth`` in ``lllyasviel/Annotators`` on the Hub: the card's folder holds the
file, or the hub id is read from the Hugging Face cache. No installed package ships it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from tools.models import ModelCard
from tools.runners.annotators import NoOfflineModelError
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.hf_common import Loaded

logger = logging.getLogger(__name__)

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


def _weights_path(card: ModelCard) -> Path:
    name = str(card.options.get("weights_file", WEIGHTS_FILE))
    if card.source == "path":
        path = Path(card.location) / name
        if path.is_file():
            return path
        raise NoOfflineModelError(f"no model available offline for hed-control: {path} does not exist")
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(card.location, name))
    except Exception as error:  # offline and not cached: the hub client raises several kinds
        raise NoOfflineModelError(
            f"no model available offline for hed-control: it needs {name} from {card.location} on the "
            "Hugging Face Hub (no installed package ships it); download it into the Hugging Face cache "
            f"while online (hf download {card.location} {name}) ({error})"
        ) from error


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
    network.load_state_dict(torch.load(_weights_path(card), map_location="cpu", weights_only=True))
    return Loaded(model=network.to(options.device).eval(), device=options.device)


def run_hed(loaded: Loaded, call: Call) -> TaskOutput:
    """Draw an image's soft HED boundaries, white on black (the hed ControlNet's condition image).

    Args:
        loaded: the HED network.
        call: args ``image``.

    Returns:
        ``image`` the boundary map, the input's size; ``data`` its mean edge strength (0-1).
    """
    import torch
    from PIL import Image

    image = np.asarray(call.workspace.load_image(call.args["image"]), dtype=np.float32)
    with torch.inference_mode():
        batch = torch.from_numpy(image).permute(2, 0, 1)[None].to(loaded.device)
        maps = [
            torch.nn.functional.interpolate(edges, size=image.shape[:2], mode="bilinear")
            for edges in loaded.model(batch)
        ]
        strength = torch.sigmoid(torch.cat(maps, dim=1).mean(dim=1))[0].cpu().numpy()
    grey = (strength * 255.0).clip(0, 255).astype(np.uint8)
    path = call.workspace.save_image(Image.fromarray(grey).convert("RGB"), call.stem)
    return TaskOutput(text="soft HED boundaries", image=str(path), data={"mean_edge": float(strength.mean())})


RUNNERS: tuple[Runner, ...] = (Runner.per_call("transformers/hed-control", load_hed, run_hed),)
