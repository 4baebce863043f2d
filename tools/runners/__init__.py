"""Runners: one per (task, model family), looked up by name from the model card."""

from __future__ import annotations

from collections.abc import Mapping

from tools.runners.base import Call, LoadOptions, Runner, TaskOutput

__all__ = ["Call", "LoadOptions", "Runner", "TaskOutput", "default_runners"]


def default_runners() -> Mapping[str, Runner]:
    """Return every built-in runner by name (importing them loads no model and no torch).

    Returns:
        Runner name -> runner.
    """
    from tools.runners import audio, diffusion, packaged, text, vision

    runners: dict[str, Runner] = {}
    for runner in (*text.RUNNERS, *vision.RUNNERS, *audio.RUNNERS, *diffusion.RUNNERS, *packaged.RUNNERS):
        if runner.name in runners:
            raise ValueError(f"two runners are named {runner.name!r}")
        runners[runner.name] = runner
    return runners
