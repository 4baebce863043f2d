"""Rebuild the hub catalog from the Hugging Face Hub: the most downloaded models per task type.

Only task types that are Hub pipeline tags are asked for; the others (ControlNet types, image editing,
conversational) keep the cards the catalog already has. A card that stays keeps its description and options.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from tools.registry import CONTROL_KINDS, TASKS

logger = logging.getLogger(__name__)

NOT_HUB_TAGS = frozenset(
    {"conversational", "image-editing"}
    | {f"{kind}-control" for kind in CONTROL_KINDS}
    | {f"{kind}-text-to-image" for kind in CONTROL_KINDS}
)
"""Registered task types that no Hub model carries as its pipeline tag."""


def hub_tasks() -> list[str]:
    """Return the registered task types that are Hub pipeline tags, in registry order."""
    return [name for name in TASKS if name not in NOT_HUB_TAGS]


def fetch_top_models(task: str, top: int, endpoint: str | None = None, token: str | None = None) -> list[Any]:
    """Return the ``top`` most downloaded Hub models whose pipeline tag is ``task`` (needs the Hub).

    Raises:
        OSError: when the Hub cannot be reached (huggingface_hub's HTTP and offline errors are OSErrors).
    """
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    return list(api.list_models(pipeline_tag=task, sort="downloads", limit=top))


def refreshed_cards(existing: Iterable[dict[str, Any]], found: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Merge the Hub's models per task into the existing cards.

    Args:
        existing: the catalog's current entries.
        found: task -> the Hub's models (``id``, ``downloads``, ``likes``, ``library_name``), most downloaded
            first; tasks not in it keep their entries unchanged.

    Returns:
        The new entries, task by task in registry order.
    """
    old = {(entry["id"], entry["task"]): entry for entry in existing}
    kept = [entry for entry in old.values() if entry["task"] not in found]
    fresh: list[dict[str, Any]] = []
    for task, models in found.items():
        for model in models:
            previous = old.get((model.id, task), {})
            library = getattr(model, "library_name", None) or "hub"
            entry = {
                "id": model.id,
                "task": task,
                "downloads": int(getattr(model, "downloads", 0) or 0),
                "likes": int(getattr(model, "likes", 0) or 0),
                "description": previous.get("description") or f"{task} model ({library})",
            }
            entry.update({key: previous[key] for key in ("options", "runner") if key in previous})
            fresh.append(entry)
    order = {name: index for index, name in enumerate(TASKS)}
    return sorted([*kept, *fresh], key=lambda entry: order.get(entry["task"], len(order)))


def write_catalog(path: Path, entries: list[dict[str, Any]]) -> None:
    """Write catalog entries as YAML, all or nothing (a temporary file replaces the old one)."""
    header = "# Hub models per task type, rebuilt by `hugginggpt models refresh` (figures from the Hub).\n"
    body = [yaml.safe_dump([entry], sort_keys=False, width=200, default_flow_style=None) for entry in entries]
    lines = [header, *body]
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("".join(lines))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def refresh_catalog(
    path: Path, top: int = 5, endpoint: str | None = None, token: str | None = None
) -> dict[str, int]:
    """Rebuild the catalog file at ``path`` from the Hub and return how many models each task got.

    Raises:
        OSError: when the Hub cannot be reached; the file is then left as it was.
    """
    existing = (yaml.safe_load(path.read_text(encoding="utf-8")) or []) if path.exists() else []
    found = {task: fetch_top_models(task, top, endpoint, token) for task in hub_tasks()}
    write_catalog(path, refreshed_cards(existing, found))
    return {task: len(models) for task, models in found.items()}
