"""Runners: one per (task, model family), looked up by name from the model card."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from tools.runners.base import Call, LoadOptions, Runner, TaskOutput

__all__ = ["FAMILIES", "Call", "LoadOptions", "Runner", "TaskOutput", "default_runners"]

FAMILIES = (
    "text",
    "text_labels",
    "chat",
    "tables",
    "tabular",
    "vision",
    "vision_dense",
    "vision_text",
    "audio",
    "audio_labels",
    "diffusion",
    "diffusion_edit",
    "video",
    "controlnet",
    "annotators",
    "hed",
    "mlsd",
    "packaged",
)
"""The modules of `tools.runners` whose ``RUNNERS`` are built in (``packaged`` gathers its libraries')."""


def default_runners() -> Mapping[str, Runner]:
    """Return every built-in runner by name (importing them loads no model and no torch).

    Returns:
        Runner name -> runner.
    """
    runners: dict[str, Runner] = {}
    for family in FAMILIES:
        for runner in importlib.import_module(f"tools.runners.{family}").RUNNERS:
            if runner.name in runners:
                raise ValueError(f"two runners are named {runner.name!r}")
            runners[runner.name] = runner
    return runners
