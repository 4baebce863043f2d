"""ControlNet generators: ``<kind>-text-to-image``, an image from a prompt that follows a condition image.

One runner serves every condition kind (canny, depth, openpose ...): the kind lies in the ControlNet weights
(the card's id or folder); the Stable Diffusion model it steers is named by the card option ``base_model``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.registry import CONTROL_KINDS
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.diffusion_edit import DEFAULT_MAX_SIDE, diffusion_kwargs, fit_image, load_pipeline
from tools.runners.hf_common import torch_dtype

logger = logging.getLogger(__name__)

SHARED_NAME = "transformers/controlnet-text-to-image"
"""The runners of every kind share one loaded pipeline per ControlNet and base model."""


def base_model_location(card: ModelCard) -> str:
    """Return the base Stable Diffusion model of a ControlNet card (option ``base_model``).

    A hub id or a folder; a folder inside the ControlNet's own folder may be named relative to it.

    Args:
        card: the ControlNet's card.

    Returns:
        What ``from_pretrained`` takes for the base pipeline.

    Raises:
        ValueError: when the card names no base model.
    """
    base = str(card.options.get("base_model") or "").strip()
    if not base:
        raise ValueError(
            f"ControlNet card {card.id} needs options.base_model, the Stable Diffusion model it steers "
            "(e.g. stable-diffusion-v1-5/stable-diffusion-v1-5)"
        )
    inside = Path(card.location) / base
    return str(inside) if card.source == "path" and inside.is_dir() else base


def load_controlnet(card: ModelCard, options: LoadOptions) -> Any:
    """Load a ControlNet and the Stable Diffusion pipeline it steers.

    Args:
        card: the ControlNet's card (its id or folder holds the ControlNet weights; ``options.base_model``
            names the base model).
        options: device and dtype.

    Returns:
        A ``StableDiffusionControlNetPipeline``.
    """
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline

    base = base_model_location(card)
    controlnet = ControlNetModel.from_pretrained(card.location, dtype=torch_dtype(options))
    base_card = ModelCard(id=base, task=card.task, source="hub")  # only its location is read
    logger.info("ControlNet %s on base model %s", card.id, base)
    return load_pipeline(StableDiffusionControlNetPipeline, base_card, options, controlnet=controlnet)


def run_controlnet(pipe: Any, call: Call) -> TaskOutput:
    """Generate an image from ``text`` that follows the condition ``image`` (its size, fitted to 8 px).

    Options: ``controlnet_conditioning_scale`` (default 1.0), ``max_side`` (default 768) and those of
    `diffusion_kwargs` (default 25 steps).

    Args:
        pipe: the ControlNet pipeline.
        call: args ``image`` (the condition image, e.g. from ``canny-control``) and ``text`` (the prompt).

    Returns:
        ``image`` the PNG's path; ``data`` its size and step count.

    Raises:
        InputError: when the prompt is empty or the condition image is unreadable.
    """
    import torch

    prompt = (call.args.get("text") or "").strip()
    if not prompt:
        raise InputError("a ControlNet generator needs a prompt (text) besides the condition image")
    condition = call.workspace.load_image(call.args["image"])
    condition = fit_image(condition, int(call.options.get("max_side", DEFAULT_MAX_SIDE)))
    kwargs = diffusion_kwargs(pipe, call, steps=25)
    kwargs["controlnet_conditioning_scale"] = float(call.options.get("controlnet_conditioning_scale", 1.0))
    with torch.inference_mode():
        result = pipe(prompt, image=condition, height=condition.height, width=condition.width, **kwargs)
    image = result.images[0]
    path = call.workspace.save_image(image, call.stem)
    data = {
        "width": image.width,
        "height": image.height,
        "num_inference_steps": kwargs["num_inference_steps"],
    }
    return TaskOutput(image=str(path), data=data)


RUNNERS: tuple[Runner, ...] = tuple(
    Runner.per_call(
        f"transformers/{kind}-text-to-image",
        load_controlnet,
        run_controlnet,
        shares=SHARED_NAME,
        load_keys=("base_model",),
    )
    for kind in CONTROL_KINDS
)
