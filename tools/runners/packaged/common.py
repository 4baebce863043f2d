"""What the runners of packaged models share: importing an optional package, thread counts."""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

from tools.packaged import PackageMissingError

EXTRA = "offline"


def require(module: str) -> ModuleType:
    """Import a module that the ``offline`` extra installs.

    Args:
        module: the importable name, e.g. ``faster_whisper``.

    Returns:
        The imported module.

    Raises:
        PackageMissingError: naming the module and the extra that installs it.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise PackageMissingError(
            f"package {module!r} is not installed ({error}); install the project's '{EXTRA}' extra "
            f"(pip install -e '.[{EXTRA}]')"
        ) from error


def cpu_threads(settings: dict[str, Any]) -> int:
    """Return the thread count from card options (``n_threads``), else the CPU count capped at 4."""
    if "n_threads" in settings:
        return int(settings["n_threads"])
    return max(1, min(4, os.cpu_count() or 1))
