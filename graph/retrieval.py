"""Pick the few-shot demos most like a request (TF-IDF cosine over words: no model, microseconds)."""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

_WORD = re.compile(r"[a-z]+")
_STOP = frozenset(
    "a an the and or of to in on at for is are be it its this that me my i you your please can could "
    "then also with from into what which".split()
)


def words(text: str) -> list[str]:
    """Return the lower-cased content words of ``text`` (file suffixes count as words: ``png``, ``wav``)."""
    return [word for word in _WORD.findall(text.lower()) if word not in _STOP]


def nearest(request: str, demos: Sequence[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """Return the ``k`` demos whose requests are most similar to ``request``, the most similar last.

    The most similar goes last so that it sits next to the request in the prompt, where a small model
    copies from best.

    Args:
        request: the user's request.
        demos: ``[{"request", "plan"}]``.
        k: how many to return.

    Returns:
        At most ``k`` demos, in increasing similarity; ties keep the demos' order.
    """
    frequency, vectors, norms = _index(tuple(demo["request"] for demo in demos))
    query = _weights(Counter(words(request)), frequency, len(vectors))
    query_norm = math.sqrt(sum(weight * weight for weight in query.values()))
    scores = [_cosine(query, query_norm, vector, norm) for vector, norm in zip(vectors, norms, strict=True)]
    ranked = sorted(range(len(demos)), key=lambda index: (-scores[index], index))[:k]
    return [demos[index] for index in reversed(ranked)]


Index = tuple[Counter[str], tuple[dict[str, float], ...], tuple[float, ...]]


@functools.lru_cache(maxsize=8)
def _index(requests: tuple[str, ...]) -> Index:
    """Return the document frequencies, TF-IDF vectors and norms of the demos' requests (once per set)."""
    documents = [Counter(words(request)) for request in requests]
    frequency = Counter(word for document in documents for word in document)
    vectors = tuple(_weights(document, frequency, len(documents)) for document in documents)
    norms = tuple(math.sqrt(sum(weight * weight for weight in vector.values())) for vector in vectors)
    return frequency, vectors, norms


def _weights(counts: Counter[str], frequency: Counter[str], total: int) -> dict[str, float]:
    return {word: n * math.log((1 + total) / (1 + frequency[word])) for word, n in counts.items()}


def _cosine(a: dict[str, float], a_norm: float, b: dict[str, float], b_norm: float) -> float:
    if not a_norm or not b_norm:
        return 0.0
    return sum(weight * b.get(word, 0.0) for word, weight in a.items()) / (a_norm * b_norm)
