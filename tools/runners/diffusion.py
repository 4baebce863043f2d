"""Runners for diffusers pipelines: text-to-image."""

from __future__ import annotations

import logging
from typing import Any

from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.hf_common import (
    torch_dtype,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- text-to-image


def load_text_to_image(card: ModelCard, options: LoadOptions) -> Any:
    """Load a diffusers text-to-image pipeline (``DiffusionPipeline.from_pretrained``).

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The pipeline, on its device, with its progress bar off.
    """
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(card.location, dtype=torch_dtype(options))
    pipe = pipe.to(options.device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run_text_to_image(pipe: Any, call: Call) -> TaskOutput:
    """Generate an image from ``text`` and save it as PNG.

    Options: ``num_inference_steps`` (default 25), ``guidance_scale``, ``height``, ``width``,
    ``negative_prompt``, ``seed``.

    Args:
        pipe: the diffusers pipeline.
        call: args ``text`` (the prompt).

    Returns:
        ``image`` the PNG's path; ``data`` its size and step count.
    """
    import torch

    kwargs: dict[str, Any] = {"num_inference_steps": int(call.options.get("num_inference_steps", 25))}
    for key in ("guidance_scale", "height", "width", "negative_prompt"):
        if key in call.options:
            kwargs[key] = call.options[key]
    if "seed" in call.options:
        kwargs["generator"] = torch.Generator(device=pipe.device).manual_seed(int(call.options["seed"]))
    with torch.inference_mode():
        image = pipe(call.args["text"], **kwargs).images[0]
    path = call.workspace.save_image(image, call.stem)
    data = {
        "width": image.width,
        "height": image.height,
        "num_inference_steps": kwargs["num_inference_steps"],
    }
    return TaskOutput(image=str(path), data=data)


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call("transformers/text-to-image", load_text_to_image, run_text_to_image),
)
