"""Where files live: one workspace folder per run, collision-free names, atomic writes, safe input loading."""

from __future__ import annotations

import io
import os
import tempfile
import uuid
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image


class InputError(ValueError):
    """An input file is missing, unreadable, or not of the kind the task needs."""


@dataclass(frozen=True)
class Workspace:
    """A run's output folder, and what the run may read. A file appears only once it is whole.

    A run reads files only from the inputs folder (``base``), its own folder, and the folders of the
    thread's earlier runs (``readable_runs``): an absolute path elsewhere, a ``..`` that climbs out, or a
    symlink that points out is refused.

    Attributes:
        root: the run's folder (created on first write); its parent holds every run's folder.
        base: the inputs folder; relative input paths resolve against it.
        readable_runs: ids of other runs whose files this run may read.
        files_url: the URL path that names produced files (``/files``), or empty to name them by path.
    """

    root: Path
    base: Path = Path(".")
    readable_runs: tuple[str, ...] = ()
    files_url: str = ""

    @classmethod
    def for_run(
        cls,
        parent: str | os.PathLike[str],
        run_id: str,
        base: str | os.PathLike[str] = ".",
        readable_runs: Sequence[str] = (),
        files_url: str = "",
    ) -> Workspace:
        """Return the workspace of one run under ``parent``.

        Args:
            parent: the folder that holds all runs' workspaces.
            run_id: the run's identifier; becomes the folder name.
            base: the inputs folder.
            readable_runs: other runs (of the same thread) whose files may be read.
            files_url: the URL path produced files are named by, or empty.

        Returns:
            The workspace (the folder is created lazily).
        """
        return cls(Path(parent) / run_id, Path(base), tuple(readable_runs), files_url.rstrip("/"))

    def public_name(self, path: str) -> str:
        """Return how an answer names a produced file: its URL path when ``files_url`` is set, else the path.

        Args:
            path: a file in a run's folder.

        Returns:
            ``<files_url>/<run>/<name>``, or ``path`` unchanged.
        """
        if not self.files_url:
            return path
        file = Path(os.path.normpath(path))  # lexical only: no file system call on an event loop
        if file.parent.parent != Path(os.path.normpath(self.root.parent)):
            return path
        return f"{self.files_url}/{file.parent.name}/{file.name}"

    def new_path(self, stem: str, suffix: str) -> Path:
        """Return a fresh, unused path in the workspace, e.g. ``task3-image-1a2b3c4d5e6f.png``.

        Args:
            stem: a readable prefix (task id and kind).
            suffix: the file suffix with its dot.

        Returns:
            A path that no other call returns (a random 48-bit token).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        safe_stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:48]
        return self.root / f"{safe_stem}-{uuid.uuid4().hex[:12]}{suffix}"

    def write_bytes(self, stem: str, suffix: str, data: bytes) -> Path:
        """Write ``data`` to a new file atomically (temp file, then rename) and return its path.

        Args:
            stem: a readable prefix for the name.
            suffix: the file suffix with its dot.
            data: the file's content.

        Returns:
            The path of the complete file.
        """
        target = self.new_path(stem, suffix)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".partial-", suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def save_image(self, image: Image.Image, stem: str) -> Path:
        """Save a PIL image as PNG and return its path.

        Args:
            image: the image.
            stem: a readable prefix for the name.

        Returns:
            The path of the PNG.
        """
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return self.write_bytes(stem, ".png", buffer.getvalue())

    def save_audio(self, samples: np.ndarray, sampling_rate: int, stem: str) -> Path:
        """Save mono float or int16 samples as a 16-bit WAV file and return its path.

        Args:
            samples: a 1-D array (float in [-1, 1], or int16).
            sampling_rate: samples per second.
            stem: a readable prefix for the name.

        Returns:
            The path of the WAV file.
        """
        return self.write_bytes(stem, ".wav", encode_wav(samples, sampling_rate))

    def resolve(self, value: str) -> Path:
        """Resolve an input path to a file this run may read.

        Relative paths resolve against the inputs folder, then the run's folder; a path under
        ``files_url`` names a produced file; an absolute path must lie in a readable folder (a
        leading ``/`` is also tried against the inputs folder, as the original HuggingGPT server did).

        Args:
            value: a path as written in a plan.

        Returns:
            The existing file (checked with its symlinks resolved).

        Raises:
            InputError: when no such file exists, or it lies outside what the run may read.
        """
        outside: Path | None = None
        readable = self._readable()
        for candidate in self._candidates(value.strip()):
            if not candidate.is_file():
                continue
            real = candidate.resolve()
            if any(real.is_relative_to(folder) for folder in readable):
                return candidate  # as written: a relative path stays relative, results show no host layout
            outside = real
        if outside is not None:
            raise InputError(
                f"input file {value} is outside the inputs folder ({self.base.resolve()}) and this "
                "thread's files; copy it there or set inputs_dir"
            )
        raise InputError(f"input file not found: {value}")

    def _candidates(self, value: str) -> list[Path]:
        prefix = f"{self.files_url}/" if self.files_url else None
        if prefix and value.startswith(prefix):
            return [self.root.parent / value[len(prefix) :]]
        raw = Path(value).expanduser()
        if raw.is_absolute():
            return [raw, self.base / value.lstrip("/")]
        return [self.base / raw, self.root / raw]

    def _readable(self) -> list[Path]:
        runs = [self.root, *(self.root.parent / run for run in self.readable_runs if Path(run).name == run)]
        return [self.base.resolve(), *(folder.resolve() for folder in runs)]

    def load_image(self, value: str) -> Image.Image:
        """Load an input image as RGB.

        Args:
            value: its path.

        Returns:
            The image, fully read.

        Raises:
            InputError: when the file is missing or not an image.
        """
        from PIL import Image, UnidentifiedImageError

        path = self.resolve(value)
        try:
            with Image.open(path) as image:
                return image.convert("RGB")
        except (UnidentifiedImageError, OSError) as error:
            raise InputError(f"not a readable image: {value} ({error})") from error

    def load_audio(self, value: str, sampling_rate: int = 16000) -> np.ndarray:
        """Load a WAV input as mono float32 at ``sampling_rate``.

        Args:
            value: its path.
            sampling_rate: the rate to resample to.

        Returns:
            A 1-D float32 array in [-1, 1].

        Raises:
            InputError: when the file is missing or not a PCM WAV file.
        """
        path = self.resolve(value)
        try:
            samples, rate = decode_wav(path.read_bytes())
        except (wave.Error, EOFError, ValueError) as error:
            raise InputError(f"not a readable WAV file: {value} ({error})") from error
        return resample(samples, rate, sampling_rate)


def encode_wav(samples: np.ndarray, sampling_rate: int) -> bytes:
    """Encode mono samples as 16-bit PCM WAV bytes.

    Args:
        samples: a 1-D array, float in [-1, 1] or int16.
        sampling_rate: samples per second.

    Returns:
        The WAV file's bytes.
    """
    data = np.asarray(samples).reshape(-1)
    if data.dtype != np.int16:
        data = (np.clip(data.astype(np.float32), -1.0, 1.0) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(sampling_rate))
        out.writeframes(data.tobytes())
    return buffer.getvalue()


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode PCM WAV bytes (8, 16 or 32 bit, any channels) to mono float32.

    Args:
        data: the file's bytes.

    Returns:
        The samples in [-1, 1] and their rate.
    """
    with wave.open(io.BytesIO(data), "rb") as source:
        width, channels, rate = source.getsampwidth(), source.getnchannels(), source.getframerate()
        frames = source.readframes(source.getnframes())
    dtypes = {1: np.uint8, 2: np.int16, 4: np.int32}
    if width not in dtypes:
        raise ValueError(f"unsupported sample width {width}")
    pcm = np.frombuffer(frames, dtype=dtypes[width]).astype(np.float32)
    if width == 1:
        pcm = (pcm - 128.0) / 128.0
    else:
        pcm /= float(2 ** (8 * width - 1))
    return pcm.reshape(-1, channels).mean(axis=1), rate


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Resample by linear interpolation (enough for speech models' 16 kHz input).

    Args:
        samples: 1-D float samples.
        rate: their rate.
        target: the wanted rate.

    Returns:
        float32 samples at ``target``.
    """
    if rate == target or samples.size == 0:
        return samples.astype(np.float32)
    count = max(1, round(samples.size * target / rate))
    positions = np.linspace(0, samples.size - 1, count)
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)
