"""Text-to-video with a diffusers pipeline, and frames written as an MP4 browsers play (H.264, yuv420p)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.diffusion_edit import diffusion_kwargs, load_pipeline

logger = logging.getLogger(__name__)

DEFAULT_FPS = 8


def encode_mp4(frames: np.ndarray, fps: int = DEFAULT_FPS) -> bytes:
    """Encode RGB frames as an H.264 MP4 (yuv420p, even sides, moov atom first) with PyAV.

    Args:
        frames: ``(frames, height, width, 3)``, uint8, or float in [0, 1].
        fps: frames per second.

    Returns:
        The MP4 file's bytes.

    Raises:
        ValueError: when ``frames`` is not a non-empty stack of RGB frames.
    """
    clip = _even_uint8(frames)
    # faststart rewrites the file to put its index first (so playback starts before the download ends):
    # that needs a real file, not a memory buffer.
    with tempfile.TemporaryDirectory(prefix="mp4-") as folder:
        path = Path(folder) / "clip.mp4"
        _write_mp4(path, clip, fps)
        return path.read_bytes()


def _write_mp4(path: Path, clip: np.ndarray, fps: int) -> None:
    import av

    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=int(fps))
        stream.height, stream.width = clip.shape[1], clip.shape[2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        for frame in clip:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))


def _even_uint8(frames: np.ndarray) -> np.ndarray:
    clip = np.asarray(frames)
    if clip.ndim != 4 or clip.shape[-1] != 3 or clip.shape[0] == 0:
        raise ValueError(f"expected (frames, height, width, 3) RGB frames, got shape {clip.shape}")
    if clip.dtype != np.uint8:
        clip = (np.clip(clip.astype(np.float32), 0.0, 1.0) * 255.0).round().astype(np.uint8)
    height, width = clip.shape[1] // 2 * 2, clip.shape[2] // 2 * 2  # yuv420p halves both chroma sides
    if height == 0 or width == 0:
        raise ValueError(f"frames of {clip.shape[2]}x{clip.shape[1]} pixels are too small to encode")
    return np.ascontiguousarray(clip[:, :height, :width])


def load_text_to_video(card: ModelCard, options: LoadOptions) -> Any:
    """Load a text-to-video pipeline (``DiffusionPipeline``: TextToVideoSD, AnimateDiff, ...).

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The pipeline.
    """
    from diffusers import DiffusionPipeline

    return load_pipeline(DiffusionPipeline, card, options)


def run_text_to_video(pipe: Any, call: Call) -> TaskOutput:
    """Generate a short clip from a prompt and save it as MP4.

    Options: ``num_frames`` (default 16), ``fps`` (default 8), ``height``, ``width`` and those of
    `diffusion_kwargs` (default 25 steps).

    Args:
        pipe: the diffusers pipeline.
        call: args ``text`` (the prompt).

    Returns:
        ``video`` the MP4's path; ``data`` its frame count, size, fps and step count.

    Raises:
        InputError: when the prompt is empty.
    """
    import torch

    prompt = (call.args.get("text") or "").strip()
    if not prompt:
        raise InputError("text-to-video needs a prompt (text)")
    kwargs = diffusion_kwargs(pipe, call, steps=25)
    kwargs["num_frames"] = int(call.options.get("num_frames", 16))
    kwargs.update({key: int(call.options[key]) for key in ("height", "width") if key in call.options})
    with torch.inference_mode():
        frames = _first_clip(pipe(prompt, output_type="np", **kwargs).frames)
    fps = int(call.options.get("fps", DEFAULT_FPS))
    path = call.workspace.write_bytes(call.stem, ".mp4", encode_mp4(frames, fps))
    data = {
        "frames": int(frames.shape[0]),
        "width": int(frames.shape[2]) // 2 * 2,
        "height": int(frames.shape[1]) // 2 * 2,
        "fps": fps,
        "num_inference_steps": kwargs["num_inference_steps"],
    }
    return TaskOutput(video=str(path), data=data)


def _first_clip(frames: Any) -> np.ndarray:
    # Pipelines return (batch, frames, H, W, 3) arrays, or a list of clips of frames.
    clip = frames[0] if isinstance(frames, list) or np.asarray(frames).ndim == 5 else frames
    return np.stack([np.asarray(frame) for frame in clip]) if isinstance(clip, list) else np.asarray(clip)


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call("transformers/text-to-video", load_text_to_video, run_text_to_video),
)
