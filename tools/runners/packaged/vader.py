"""VADER (``vaderSentiment``): a rule-based English sentiment lexicon that ships in the package; no hub.

The label comes from VADER's compound score (at least +0.05 positive, at most -0.05 negative, neutral in
between, as its authors recommend); the scores are VADER's shares of positive, neutral and negative words.
"""

from __future__ import annotations

from typing import Any

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.runners.base import BatchSteps, Call, LoadOptions, Runner, TaskOutput
from tools.runners.drawing import scored
from tools.runners.packaged.common import require

COMPOUND_THRESHOLD = 0.05
"""How far from zero VADER's compound score must be for a text to count as positive or negative."""

SCORE_KEYS = {"positive": "pos", "neutral": "neu", "negative": "neg"}
"""Each label and the key of its score in VADER's ``polarity_scores``."""


def load_vader(card: ModelCard, options: LoadOptions) -> Any:
    """Create VADER's ``SentimentIntensityAnalyzer`` (it reads its lexicon from the package).

    Args:
        card: unused (VADER has one lexicon).
        options: unused (VADER runs on the CPU, in pure Python).

    Returns:
        The analyzer.

    Raises:
        PackageMissingError: when ``vaderSentiment`` is not installed.
    """
    return require("vaderSentiment.vaderSentiment").SentimentIntensityAnalyzer()


def prepare_text(analyzer: Any, call: Call) -> str:
    """Return the call's ``text``, stripped.

    Raises:
        InputError: when the text is empty.
    """
    text = str(call.args.get("text", "")).strip()
    if not text:
        raise InputError("the `text` argument is empty: give the text to label")
    return text


def polarity(analyzer: Any, texts: list[str], options: dict[str, Any]) -> list[dict[str, float]]:
    """Return VADER's ``{neg, neu, pos, compound}`` scores of each text (VADER scores one text at a time)."""
    return [dict(analyzer.polarity_scores(text)) for text in texts]


def sentiment_label(compound: float, threshold: float = COMPOUND_THRESHOLD) -> str:
    """Return ``positive``, ``neutral`` or ``negative`` for a VADER compound score.

    Args:
        compound: the compound score, in [-1, 1].
        threshold: the least distance from zero that counts as positive or negative.

    Returns:
        The label.
    """
    if compound >= threshold:
        return "positive"
    if compound <= -threshold:
        return "negative"
    return "neutral"


def sentiment_labels(analyzer: Any, call: Call, scores: dict[str, float]) -> TaskOutput:
    """Render one text's sentiment: the label VADER's compound score picks first, then the others.

    Options: ``compound_threshold`` (default 0.05) and ``top_k`` (default 3).

    Returns:
        ``text`` like ``positive (0.68), neutral (0.32), negative (0.00)``; ``data["labels"]`` the list of
        ``{label, score}``, and ``data["compound"]`` VADER's compound score.
    """
    compound = float(scores["compound"])
    chosen = sentiment_label(compound, float(call.options.get("compound_threshold", COMPOUND_THRESHOLD)))
    others = sorted(
        (label for label in SCORE_KEYS if label != chosen), key=lambda label: -scores[SCORE_KEYS[label]]
    )
    ranked = [(label, float(scores[SCORE_KEYS[label]])) for label in [chosen, *others]]
    ranked = ranked[: int(call.options.get("top_k", len(ranked)))]
    labels = [{"label": label, "score": score} for label, score in ranked]
    text = scored(ranked)
    return TaskOutput(text=text, data={"labels": labels, "compound": compound})


RUNNERS: tuple[Runner, ...] = (
    Runner.batched(
        "vader/text-classification",
        load_vader,
        BatchSteps(prepare_text, polarity, sentiment_labels),
        max_batch=32,
    ),
)
