"""Prompt templates and few-shot demos from prompts/, filled by name."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from tools.registry import TaskSpec

PROMPT_DIR = Path(__file__).resolve().parent.parent / "prompts"
_SLOT = re.compile(r"\{([a-z_]+)\}")


@cache
def template(name: str) -> str:
    """Return the text of ``prompts/<name>.md``."""
    return (PROMPT_DIR / f"{name}.md").read_text(encoding="utf-8")


def render(name: str, **slots: str) -> str:
    """Fill the ``{slot}`` names of a template; other braces (JSON examples) are left alone.

    Args:
        name: the template, e.g. ``planner``.
        **slots: the values.

    Returns:
        The filled text.

    Raises:
        KeyError: when the template has a slot that was not given.
    """

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in slots:
            raise KeyError(f"prompt {name!r} needs slot {key!r}")
        return slots[key]

    return _SLOT.sub(replace, template(name))


@cache
def demos() -> list[dict[str, Any]]:
    """Return the planner's few-shot demos: ``[{"request", "plan"}]`` (read once; do not modify)."""
    return json.loads((PROMPT_DIR / "demos.json").read_text(encoding="utf-8"))


def preload() -> None:
    """Read every template and the demos now (at start-up), so that no run reads a file on its event loop."""
    for path in sorted(PROMPT_DIR.glob("*.md")):
        template(path.stem)
    demos()


TASK_DETAILS = ("full", "short", "names")
"""How much of each task type the planner prompt shows, most first: a prompt that does not fit shows less."""


def describe_tasks(registry: Mapping[str, TaskSpec], detail: str = "full") -> str:
    """Return one line per task type for the planner prompt.

    Args:
        registry: the task types.
        detail: ``full`` (what it does, arguments, outputs), ``short`` (arguments and outputs) or ``names``.
    """
    if detail == "names":
        return ", ".join(registry)
    lines = []
    for spec in registry.values():
        args = ", ".join(
            f"{name} ({modality}{', optional' if name in spec.optional_args else ''})"
            for name, modality in spec.args.items()
        )
        what = f"{spec.description}; " if detail == "full" else ""
        lines.append(f"- {spec.name}: {what}args: {args}; gives: {', '.join(spec.outputs)}")
    return "\n".join(lines)
