"""Runners for transformers audio models: batched audio classification, and audio-to-audio (SpeechT5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.runners.base import BatchSteps, Call, LoadOptions, Runner, TaskOutput
from tools.runners.drawing import scored
from tools.runners.hf_common import Loaded, from_pretrained, to_model

DEFAULT_VOCODER = "microsoft/speecht5_hifigan"
SPEAKER_FILE = "speaker_embeddings.npy"


def _rate(loaded: Loaded) -> int:
    return int(getattr(loaded.processor, "sampling_rate", 16000))


def _load_clip(loaded: Loaded, call: Call, max_seconds: float) -> Any:
    value = str(call.args.get("audio", "")).strip()
    if not value:
        raise InputError("the `audio` argument is empty: give a .wav file")
    samples = call.workspace.load_audio(value, sampling_rate=_rate(loaded))
    if samples.size == 0:
        raise InputError(f"the audio file {value} has no samples")
    return samples[: int(max_seconds * _rate(loaded))]


# ---------------------------------------------------------------- audio-classification


def load_audio_classification(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load an audio classifier (AST, wav2vec2, HuBERT, Whisper encoder ...) with its feature extractor.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its feature extractor as ``processor``.
    """
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    extractor = AutoFeatureExtractor.from_pretrained(card.location)
    model = from_pretrained(AutoModelForAudioClassification, card, options)
    return Loaded(model, extractor, None, options.device)


def _prepare_clip(loaded: Loaded, call: Call) -> Any:
    return _load_clip(loaded, call, float(call.options.get("max_seconds", 30.0)))


def _groups(loaded: Loaded, clips: list[Any]) -> list[list[int]]:
    """Return which clips go through the model together.

    All of them when the extractor gives an attention mask; otherwise clips of equal length only, since
    zero padding would change what a model without a mask hears.
    """
    if getattr(loaded.processor, "return_attention_mask", False):
        return [list(range(len(clips)))]
    by_length: dict[int, list[int]] = {}
    for index, clip in enumerate(clips):
        by_length.setdefault(int(clip.size), []).append(index)
    return list(by_length.values())


def _classify_clips(loaded: Loaded, clips: list[Any], options: dict[str, Any]) -> list[list[float]]:
    import torch

    results: list[list[float]] = [[] for _ in clips]
    masked = bool(getattr(loaded.processor, "return_attention_mask", False))
    for group in _groups(loaded, clips):
        extra = {"padding": True, "return_attention_mask": True} if masked and len(group) > 1 else {}
        batch = loaded.processor(
            [clips[index] for index in group], sampling_rate=_rate(loaded), return_tensors="pt", **extra
        )
        with torch.inference_mode():
            logits = loaded.model(**to_model(batch, loaded.model)).logits.float().cpu()
        function = str(options.get("function_to_apply", "softmax"))
        scores = logits.sigmoid() if function == "sigmoid" else logits.softmax(-1)
        for index, row in zip(group, scores, strict=True):
            results[index] = row.tolist()
    return results


def _finish_audio_labels(loaded: Loaded, call: Call, scores: list[float]) -> TaskOutput:
    names = [str(loaded.model.config.id2label[index]) for index in range(len(scores))]
    ranked = sorted(zip(names, scores, strict=True), key=lambda pair: -pair[1])
    ranked = ranked[: int(call.options.get("top_k", 5))]
    labels = [{"label": label, "score": score} for label, score in ranked]
    return TaskOutput(text=scored(ranked), data={"labels": labels})


# ---------------------------------------------------------------- audio-to-audio


def _speaker_embedding(card: ModelCard) -> Any:
    """Return the target voice: the ``speaker_embeddings`` option (a .npy x-vector), or the folder's own."""
    import numpy as np
    import torch

    named = card.options.get("speaker_embeddings")
    path = Path(str(named)) if named else Path(card.location) / SPEAKER_FILE
    if named and not path.is_absolute() and Path(card.location).is_dir():
        path = Path(card.location) / path
    if not path.is_file():
        raise RuntimeError(
            f"{card.id} converts speech to a target voice and needs its x-vector: set the card option "
            f"speaker_embeddings to a .npy file (512 floats), or put {SPEAKER_FILE} in the model folder"
        )
    return torch.from_numpy(np.load(path).astype(np.float32).reshape(1, -1))


def load_audio_to_audio(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a SpeechT5 speech-to-speech model (voice conversion) with its vocoder and target voice.

    The vocoder is the card's ``vocoder`` option (a hub id or folder), else a ``vocoder`` subfolder of the
    model folder, else ``microsoft/speecht5_hifigan``. Other audio-to-audio families (speechbrain, asteroid
    enhancers and separators) need torchaudio or their own libraries, and are refused with that reason.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model, its feature extractor as ``processor``, and ``tokenizer`` the pair (vocoder, speaker).

    Raises:
        RuntimeError: for a model that is not SpeechT5, or no target voice.
    """
    from transformers import AutoConfig, AutoFeatureExtractor, SpeechT5ForSpeechToSpeech, SpeechT5HifiGan

    model_type = AutoConfig.from_pretrained(card.location).model_type
    if model_type != "speecht5":
        raise RuntimeError(
            f"no audio-to-audio runner for {card.id} ({model_type}): only SpeechT5 speech-to-speech models "
            "run here offline (speechbrain and asteroid models need torchaudio, which is not installed)"
        )
    speaker = _speaker_embedding(card)
    local_vocoder = Path(card.location) / "vocoder"
    vocoder_location = card.options.get("vocoder") or (
        str(local_vocoder) if local_vocoder.is_dir() else DEFAULT_VOCODER
    )
    model = from_pretrained(SpeechT5ForSpeechToSpeech, card, options)
    load_vocoder: Any = SpeechT5HifiGan.from_pretrained  # its stubs type the bound method wrongly
    vocoder = load_vocoder(str(vocoder_location)).to(options.device).eval()
    extractor = AutoFeatureExtractor.from_pretrained(card.location)
    return Loaded(model, extractor, (vocoder, speaker.to(options.device)), options.device)


def run_audio_to_audio(loaded: Loaded, call: Call) -> TaskOutput:
    """Say the speech of a clip again in the target voice, and save it as a WAV file.

    Options: ``max_seconds`` (input cut, default 30), ``threshold``, ``minlenratio``, ``maxlenratio``
    (SpeechT5's stopping and length settings).

    Args:
        loaded: model, feature extractor, and (vocoder, speaker embedding).
        call: args ``audio`` (a .wav file).

    Returns:
        ``audio`` the WAV's path; ``data`` its rate and length in seconds.

    Raises:
        InputError: for a missing or unreadable audio file.
    """
    import numpy as np
    import torch

    clip = _load_clip(loaded, call, float(call.options.get("max_seconds", 30.0)))
    vocoder, speaker = loaded.tokenizer
    batch = loaded.processor(audio=clip, sampling_rate=_rate(loaded), return_tensors="pt")
    settings = {
        key: float(call.options[key])
        for key in ("threshold", "minlenratio", "maxlenratio")
        if key in call.options
    }
    with torch.inference_mode():
        speech = loaded.model.generate_speech(
            to_model(batch, loaded.model)["input_values"],
            speaker.to(loaded.model.dtype),
            vocoder=vocoder,
            **settings,
        )
    samples = np.asarray(speech.float().cpu(), dtype=np.float32).reshape(-1)
    rate = int(getattr(vocoder.config, "sampling_rate", _rate(loaded)))
    path = call.workspace.save_audio(samples, rate, call.stem)
    return TaskOutput(audio=str(path), data={"sampling_rate": rate, "seconds": round(samples.size / rate, 3)})


RUNNERS: tuple[Runner, ...] = (
    Runner.batched(
        "transformers/audio-classification",
        load_audio_classification,
        BatchSteps(_prepare_clip, _classify_clips, _finish_audio_labels),
    ),
    Runner.per_call(
        "transformers/audio-to-audio",
        load_audio_to_audio,
        run_audio_to_audio,
        load_keys=("vocoder", "speaker_embeddings"),
    ),
)
