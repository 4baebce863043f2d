"""Whether a model card can run on this machine now, and how: the local backend's side of availability."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from tools.models import ModelCard

Where = Literal["local", "packaged", "cached", "downloadable", "remote"]
"""How a card runs: a local folder, a package's weights, the HF cache, a download (hub online), a server."""


def local_availability(card: ModelCard, hub_online: bool) -> Where | None:
    """Return how the local backend can load ``card`` now, or None when it cannot (blocking: reads the disk).

    Args:
        card: the model.
        hub_online: whether hub models that are not cached may be downloaded.

    Returns:
        ``local`` (an existing folder), ``packaged`` (its package is installed), ``cached`` (in the HF cache),
        ``downloadable`` (a hub model while the hub is online), or None.
    """
    if card.source == "path":
        return "local" if card.path and Path(card.path).is_dir() else None
    if card.source == "package":
        return "packaged" if card.package and importlib.util.find_spec(card.package) is not None else None
    if in_hf_cache(card.id, card.options.get("weights_file")):
        return "cached"
    return "downloadable" if hub_online else None


def in_hf_cache(model_id: str, weights_file: str | None = None) -> bool:
    """Tell whether the HF cache holds a model.

    That is its ``weights_file`` when the card names one (annotator repos hold bare weights), else its config
    (transformers) or pipeline index (diffusers).
    """
    from huggingface_hub import try_to_load_from_cache

    for filename in [str(weights_file)] if weights_file else ("config.json", "model_index.json"):
        if isinstance(try_to_load_from_cache(model_id, filename), str):
            return True
    return False
