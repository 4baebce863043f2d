"""Runners for diffusers pipelines that redraw an input image: image-to-image and image-editing.

Also the settings every image-conditioned diffusion runner shares (`diffusion_kwargs`, `fit_image`).
"""

from __future__ import annotations

import logging
from typing import Any

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.hf_common import torch_dtype

logger = logging.getLogger(__name__)

_PASSED_OPTIONS = ("guidance_scale", "negative_prompt")
DEFAULT_MAX_SIDE = 768
"""Input images are scaled down to this longest side (option ``max_side``): diffusion cost grows with area."""


def diffusion_kwargs(pipe: Any, call: Call, steps: int) -> dict[str, Any]:
    """Return the pipeline keywords from the card options.

    Options: ``num_inference_steps`` (default ``steps``), ``guidance_scale``, ``negative_prompt``, ``seed``.

    Args:
        pipe: the diffusers pipeline (for its device).
        call: the call, with the card options.
        steps: the default step count.

    Returns:
        Keywords for the pipeline call.
    """
    import torch

    kwargs: dict[str, Any] = {"num_inference_steps": int(call.options.get("num_inference_steps", steps))}
    kwargs.update({key: call.options[key] for key in _PASSED_OPTIONS if key in call.options})
    if "seed" in call.options:
        kwargs["generator"] = torch.Generator(device=pipe.device).manual_seed(int(call.options["seed"]))
    return kwargs


def fit_image(image: Any, max_side: int, multiple: int = 8) -> Any:
    """Return ``image`` scaled down to fit ``max_side``, each side a multiple of ``multiple`` pixels.

    Args:
        image: a PIL image.
        max_side: the longest side allowed.
        multiple: what each side must be a multiple of (the VAE's downsampling factor times the UNet's).

    Returns:
        The resized image (or ``image`` itself when it already fits).
    """
    from PIL import Image

    scale = min(1.0, max_side / max(image.size))
    width, height = (max(multiple, int(side * scale) // multiple * multiple) for side in image.size)
    if (width, height) == image.size:
        return image
    return image.resize((width, height), Image.Resampling.LANCZOS)


def load_pipeline(pipeline_class: Any, card: ModelCard, options: LoadOptions, **extra: Any) -> Any:
    """Load a diffusers pipeline class from ``card``'s folder or hub id, on the device, progress bar off.

    Args:
        pipeline_class: e.g. ``AutoPipelineForImage2Image``.
        card: the model card.
        options: device and dtype.
        **extra: more ``from_pretrained`` keywords (e.g. ``controlnet=``).

    Returns:
        The pipeline.
    """
    pipe = pipeline_class.from_pretrained(card.location, dtype=torch_dtype(options), **extra)
    pipe = pipe.to(options.device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _input_image(pipe: Any, call: Call) -> Any:
    image = call.workspace.load_image(call.args["image"])
    return fit_image(image, int(call.options.get("max_side", DEFAULT_MAX_SIDE)), _multiple(pipe))


def _multiple(pipe: Any) -> int:
    # Latents are 1/vae_scale_factor of the image; 8 also suits tiny VAEs (factor 2).
    return max(8, int(getattr(pipe, "vae_scale_factor", 8)))


def _save(call: Call, image: Any, steps: int) -> TaskOutput:
    path = call.workspace.save_image(image, call.stem)
    return TaskOutput(
        image=str(path), data={"width": image.width, "height": image.height, "num_inference_steps": steps}
    )


# ---------------------------------------------------------------- image-to-image


def load_image_to_image(card: ModelCard, options: LoadOptions) -> Any:
    """Load an image-to-image pipeline (``AutoPipelineForImage2Image``; any SD, SDXL, Kandinsky ... folder).

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The pipeline.
    """
    from diffusers import AutoPipelineForImage2Image

    return load_pipeline(AutoPipelineForImage2Image, card, options)


def run_image_to_image(pipe: Any, call: Call) -> TaskOutput:
    """Redraw an image guided by an optional prompt, keeping its layout.

    Options: ``strength`` (0-1, how much is redrawn; default 0.6), ``prompt`` (used when the call has no
    text), ``max_side`` and those of `diffusion_kwargs` (default 30 steps).

    Args:
        pipe: the diffusers pipeline.
        call: args ``image`` and optional ``text`` (the prompt).

    Returns:
        ``image`` the PNG's path, the same size as the (fitted) input; ``data`` its size and step count.
    """
    import torch

    image = _input_image(pipe, call)
    prompt = (call.args.get("text") or "").strip() or str(call.options.get("prompt", ""))
    kwargs = diffusion_kwargs(pipe, call, steps=30)
    kwargs["strength"] = float(call.options.get("strength", 0.6))
    with torch.inference_mode():
        result = pipe(prompt=prompt, image=image, **kwargs)
    return _save(call, result.images[0], kwargs["num_inference_steps"])


# ---------------------------------------------------------------- image-editing


def load_image_editing(card: ModelCard, options: LoadOptions) -> Any:
    """Load an InstructPix2Pix pipeline (a UNet with 8 input channels: latents plus the image's).

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The pipeline.

    Raises:
        ValueError: when the folder's UNet is not an InstructPix2Pix one.
    """
    from diffusers import StableDiffusionInstructPix2PixPipeline

    pipe = load_pipeline(StableDiffusionInstructPix2PixPipeline, card, options)
    channels = int(pipe.unet.config.in_channels)
    if channels != 8:
        raise ValueError(
            f"{card.id} is not an InstructPix2Pix model: its UNet takes {channels} input channels, not 8"
        )
    return pipe


def run_image_editing(pipe: Any, call: Call) -> TaskOutput:
    """Edit an image as an instruction says (e.g. "make it snow").

    Options: ``image_guidance_scale`` (how closely the input is kept; default 1.5), ``max_side`` and those
    of `diffusion_kwargs` (default 20 steps).

    Args:
        pipe: the InstructPix2Pix pipeline.
        call: args ``image`` and ``text`` (the instruction).

    Returns:
        ``image`` the edited PNG's path; ``data`` its size and step count.

    Raises:
        InputError: when the instruction is empty.
    """
    import torch

    instruction = (call.args.get("text") or "").strip()
    if not instruction:
        raise InputError("image-editing needs an instruction (text), e.g. 'make it snow'")
    image = _input_image(pipe, call)
    kwargs = diffusion_kwargs(pipe, call, steps=20)
    kwargs["image_guidance_scale"] = float(call.options.get("image_guidance_scale", 1.5))
    with torch.inference_mode():
        result = pipe(prompt=instruction, image=image, **kwargs)
    return _save(call, result.images[0], kwargs["num_inference_steps"])


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call("transformers/image-to-image", load_image_to_image, run_image_to_image),
    Runner.per_call("transformers/image-editing", load_image_editing, run_image_editing),
)
