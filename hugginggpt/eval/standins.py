"""Stand-in input files for benchmark requests that name files nobody has (``example.jpg``, ``example.wav``).

They are synthetic, not the benchmark's: a drawn photo-like scene with a sign of text on it, a spoken
sentence (the packaged Piper voice; a 1 s tone where it is missing, or for formats other than WAV), a short
clip of moving colour, a small table. Enough for every task to read its input; what a model says about
them is not a measure of its quality.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, Final

from tools.registry import TASKS, Modality, modality_of_literal
from tools.url_inputs import is_url

logger = logging.getLogger(__name__)

SAMPLE_RATE: Final = 16000
TONE_HZ: Final = 440.0
IMAGE_SIZE: Final = (320, 240)
TABLE_TEXT: Final = "name,age,city\nann,36,paris\nbob,41,rome\n"
SPEECH_TEXT: Final = "Please describe the picture and read the text on the sign."
"""What the stand-in WAV says (so that speech recognition has words to pass on)."""
_AV_AUDIO: Final = {".mp3": ("mp3", "mp3"), ".flac": ("flac", "flac")}


def input_files(plans: Iterable[Sequence[dict[str, Any]]]) -> dict[str, Modality]:
    """Return the file arguments the plans name (not references, not URLs) -> their modality."""
    found: dict[str, Modality] = {}
    for plan in plans:
        for task in plan:
            spec = TASKS[task["task"]]
            for name, value in task["args"].items():
                modality = spec.args[name]
                if modality is not Modality.TEXT and "<GENERATED>" not in value and not is_url(value):
                    found[value.strip()] = modality_of_literal(value)
    return found


def write_standins(folder: Path, files: dict[str, Modality]) -> list[Path]:
    """Write one stand-in per named file under ``folder`` (its path kept, a leading ``/`` dropped).

    A name that climbs out of the folder (``..``) or has a suffix nothing here can write is left out with
    a warning: the task that needs it then fails as an input file not found.

    Returns:
        The files written.
    """
    written = []
    for name, modality in sorted(files.items()):
        relative = PurePosixPath(name.lstrip("/"))
        if ".." in relative.parts or not relative.parts:
            logger.warning("no stand-in for %s: it is outside the inputs folder", name)
            continue
        path = folder.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            _WRITERS[modality](path)
        except (OSError, ValueError, KeyError) as error:
            logger.warning("no stand-in for %s: %s", name, error)
            continue
        written.append(path)
    return written


def write_image(path: Path) -> None:
    """Draw a photo-like scene (sky, sun, hills, a house, a sign with text) in the suffix's format."""
    from PIL import Image, ImageDraw

    width, height = IMAGE_SIZE
    image = Image.new("RGB", IMAGE_SIZE)
    draw = ImageDraw.Draw(image)
    for row in range(height):  # a sky that lightens toward the horizon, then grass
        shade = int(120 + 100 * row / height)
        draw.line((0, row, width, row), fill=(shade - 60, shade - 20, 255) if row < 150 else (40, shade, 50))
    draw.ellipse((240, 20, 290, 70), fill=(255, 220, 60))
    draw.polygon(((60, 150), (110, 95), (160, 150)), fill=(150, 40, 30))
    draw.rectangle((70, 150, 150, 210), fill=(210, 180, 140))
    draw.rectangle((100, 175, 120, 210), fill=(90, 60, 30))
    draw.rectangle((180, 160, 300, 200), fill="white", outline="black")
    draw.text((188, 170), "Invoice total: 42", fill="black")
    image.save(path)


def write_audio(path: Path) -> None:
    """Write `SPEECH_TEXT` spoken as WAV, else a 1 s 440 Hz tone (WAV, or other formats through PyAV).

    Raises:
        ValueError: for an audio suffix PyAV is not set up to write here.
    """
    import numpy as np

    from tools.artifacts import encode_wav

    suffix = path.suffix.lower()
    if suffix == ".wav" and _write_speech(path):
        return
    samples = 0.3 * np.sin(2 * math.pi * TONE_HZ * np.arange(SAMPLE_RATE) / SAMPLE_RATE)
    if suffix == ".wav":
        path.write_bytes(encode_wav(samples, SAMPLE_RATE))
        return
    if suffix not in _AV_AUDIO:
        raise ValueError(f"cannot write a {suffix} stand-in (use .wav, .mp3 or .flac)")
    _encode_audio(path, samples.astype(np.float32), *_AV_AUDIO[suffix])


def _write_speech(path: Path) -> bool:
    """Write `SPEECH_TEXT` read by the packaged Piper voice; return False (with a warning) without it."""
    from hugginggpt.examples import speech_wav

    try:
        path.write_bytes(speech_wav(SPEECH_TEXT))
    except ImportError as error:  # PackageMissingError: piper-tts or its voice is not installed
        logger.warning("stand-in %s is a tone, not speech: %s", path.name, error)
        return False
    return True


def _encode_audio(path: Path, samples: Any, container_format: str, codec: str) -> None:
    import av
    from av.audio.stream import AudioStream

    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=SAMPLE_RATE, layout="mono")
        if not isinstance(stream, AudioStream):
            raise ValueError(f"{codec} is not an audio codec")
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def write_video(path: Path, frames: int = 8, fps: int = 8) -> None:
    """Write a 1 s clip of a square moving over a gradient (MPEG-4 part 2, readable everywhere)."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(frames):
            pixels = np.zeros((64, 64, 3), dtype=np.uint8)
            pixels[..., 2] = np.linspace(60, 220, 64, dtype=np.uint8)
            pixels[20:40, index * 5 : index * 5 + 20] = (230, 60, 40)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def write_table(path: Path) -> None:
    """Write a three-row table (comma- or tab-separated by the suffix)."""
    text = TABLE_TEXT if path.suffix.lower() != ".tsv" else TABLE_TEXT.replace(",", "\t")
    path.write_text(text, encoding="utf-8")


_WRITERS: Final = {
    Modality.IMAGE: write_image,
    Modality.AUDIO: write_audio,
    Modality.VIDEO: write_video,
    Modality.TABLE: write_table,
}
