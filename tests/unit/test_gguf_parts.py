"""Models shipped in part wheels are joined once into the cache, size and hash checked."""

from __future__ import annotations

import hashlib
import importlib
import shutil
from pathlib import Path

import pytest

from tools.gguf_parts import QWEN_CODER_1_5B, PartedModel, assembled
from tools.packaged import PackageMissingError


def _parts(root: Path, chunks: list[bytes], stem: str) -> None:
    for number, chunk in enumerate(chunks, start=1):
        folder = root / f"{stem}{number}" / "data"
        folder.mkdir(parents=True)
        (folder.parent / "__init__.py").write_text("raise ImportError('never imported')\n", encoding="utf-8")
        (folder / f"part{number:02d}.bin").write_bytes(chunk)
    importlib.invalidate_caches()


def _model(stem: str, chunks: list[bytes], sha: str | None = None) -> PartedModel:
    joined = b"".join(chunks)
    digest = sha or hashlib.sha256(joined).hexdigest()
    return PartedModel(f"{stem}.gguf", stem + "{n}", len(chunks), len(joined), digest, "test-extra")


def test_parts_are_joined_once_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = [b"GGUF" + b"a" * 100, b"b" * 50, b"c" * 7]
    _parts(tmp_path / "site", chunks, "fakeparta")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    model = _model("fakeparta", chunks)
    path = assembled(model, tmp_path / "cache")
    assert path.read_bytes() == b"".join(chunks)
    shutil.rmtree(tmp_path / "site")  # the checked file is reused: the parts are not read again
    assert assembled(model, tmp_path / "cache") == path


def test_a_wrong_hash_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = [b"x" * 10, b"y" * 10]
    _parts(tmp_path / "site", chunks, "fakepartb")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.raises(ValueError, match="expected 20 bytes"):
        assembled(_model("fakepartb", chunks, sha="0" * 64), tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_missing_part_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _parts(tmp_path / "site", [b"only one"], "fakepartc")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    model = PartedModel("c.gguf", "fakepartc{n}", 2, 9, "0" * 64, "test-extra")
    with pytest.raises(PackageMissingError, match="fakepartc2.*test-extra"):
        assembled(model, tmp_path / "cache")


def test_the_qwen_parts_are_pinned() -> None:
    assert QWEN_CODER_1_5B.parts == 22 and QWEN_CODER_1_5B.size == 1_117_320_768
    assert QWEN_CODER_1_5B.sha256.startswith("cc324af0") and QWEN_CODER_1_5B.sha256.endswith("3bb046")
