"""Runners for transformers audio models: speech synthesis and speech recognition."""

from __future__ import annotations

import logging
from typing import Any

from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.hf_common import (
    Loaded,
    pipeline_of,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- text-to-speech


def load_text_to_speech(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a speech synthesizer (VITS/MMS, ...) as a transformers ``text-to-speech`` pipeline.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The loaded pipeline.
    """
    return pipeline_of("text-to-speech", card, options)


def run_text_to_speech(loaded: Loaded, call: Call) -> TaskOutput:
    """Read ``text`` aloud into a WAV file (option ``seed`` makes VITS's noise repeatable).

    Args:
        loaded: the pipeline.
        call: args ``text``.

    Returns:
        ``audio`` the WAV's path; ``data`` its rate and length in seconds.
    """
    import numpy as np
    import torch

    if "seed" in call.options:
        torch.manual_seed(int(call.options["seed"]))
    with torch.inference_mode():
        speech = loaded.model(call.args["text"])
    samples = np.asarray(speech["audio"], dtype=np.float32).reshape(-1)
    rate = int(speech["sampling_rate"])
    path = call.workspace.save_audio(samples, rate, call.stem)
    return TaskOutput(audio=str(path), data={"sampling_rate": rate, "seconds": round(samples.size / rate, 3)})


# ---------------------------------------------------------------- automatic-speech-recognition


def load_speech_recognition(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a speech recognizer (Whisper, wav2vec2 CTC, ...) as a transformers pipeline.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The loaded pipeline.
    """
    return pipeline_of("automatic-speech-recognition", card, options)


def run_speech_recognition(loaded: Loaded, call: Call) -> TaskOutput:
    """Transcribe a WAV file. The audio is decoded here (no ffmpeg) at the model's sampling rate.

    Options: ``chunk_length_s`` (long audio), ``return_timestamps``; for generative models (Whisper)
    ``language`` and ``max_new_tokens``.

    Args:
        loaded: the pipeline.
        call: args ``audio``.

    Returns:
        The transcript in ``text``.
    """
    import torch

    pipe = loaded.model
    rate = int(getattr(pipe.feature_extractor, "sampling_rate", 16000))
    audio = call.workspace.load_audio(call.args["audio"], sampling_rate=rate)
    kwargs: dict[str, Any] = {
        key: call.options[key] for key in ("chunk_length_s", "return_timestamps") if key in call.options
    }
    generate: dict[str, Any] = {}
    if "language" in call.options and pipe.model.config.model_type == "whisper":
        generate.update(language=call.options["language"], task="transcribe")
    if "max_new_tokens" in call.options and pipe.model.can_generate():
        generate["max_new_tokens"] = int(call.options["max_new_tokens"])
    if generate:
        kwargs["generate_kwargs"] = generate
    with torch.inference_mode():
        result = pipe(audio, **kwargs)
    return TaskOutput(text=str(result["text"]).strip(), data={"seconds": round(audio.size / rate, 3)})


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call("transformers/text-to-speech", load_text_to_speech, run_text_to_speech),
    Runner.per_call(
        "transformers/automatic-speech-recognition", load_speech_recognition, run_speech_recognition
    ),
)
