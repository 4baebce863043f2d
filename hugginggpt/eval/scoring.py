"""TaskBench's plan metrics, computed as its evaluate.py does (``--dependency_type resource``).

Per request, gold and predicted plans become sets: tool names (node F1, only the benchmark's own tools
count), links ``(source name, target name)`` read off the ``<node-j>`` arguments, ``task-argname`` and
``task-argname-value`` strings, where an argument's name is the type of its content (``image`` for
``x.jpg``, ``text`` otherwise) or, for ``<node-j>``, the output type of node j's tool, whose name is
then the value. Counts are pooled over requests (micro F1), as TaskBench's ``flatten`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

METRICS: Final = ("node", "link", "arg_name", "arg_value")
"""The four F1 scores, in the order tables show them."""

_IMAGE_EXTENSIONS: Final = ("jpg", "png", "jpeg", "gif", "bmp", "tiff", "svg", "ico")
_AUDIO_EXTENSIONS: Final = ("mp3", "wav", "wma", "ogg", "aac", "flac", "aiff", "au")
_VIDEO_EXTENSIONS: Final = ("mp4", "avi", "mov", "flv", "wmv", "mkv", "webm", "m4v", "mpg", "mpeg")


@dataclass(frozen=True)
class Counts:
    """True positives, false positives and false negatives of one metric."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        """Pool two counts (micro averaging)."""
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def f1(self) -> float | None:
        """Return F1 in percent, or None when there is nothing to score (no gold and no prediction).

        TaskBench (sklearn, zero_division) reports 0 there; for example link F1 on single-node plans.
        """
        if self.tp + self.fp + self.fn == 0:
            return None
        return 100.0 * 2 * self.tp / (2 * self.tp + self.fp + self.fn)


def compare(gold: Iterable[Any], predicted: Iterable[Any]) -> Counts:
    """Return the set-wise counts of one request (repeats count once, as in TaskBench's ``flatten``)."""
    gold_set, predicted_set = set(gold), set(predicted)
    return Counts(len(gold_set & predicted_set), len(predicted_set - gold_set), len(gold_set - predicted_set))


@dataclass(frozen=True)
class Parsed:
    """A plan as TaskBench scores it: node names, links by name, and typed arguments per node."""

    names: tuple[str, ...]
    links: tuple[tuple[str, str], ...]
    arguments: tuple[tuple[tuple[str, str], ...], ...]

    def arg_names(self) -> list[str]:
        """Return the ``task-argname`` strings."""
        return [
            f"{name}-{arg}" for name, args in zip(self.names, self.arguments, strict=True) for arg, _ in args
        ]

    def arg_values(self) -> list[str]:
        """Return the ``task-argname-value`` strings."""
        return [
            f"{name}-{arg}-{value}"
            for name, args in zip(self.names, self.arguments, strict=True)
            for arg, value in args
        ]


def content_type(content: str) -> str:
    """Return TaskBench's type of a literal argument: image, audio or video by file extension, else text."""
    content = content.strip("'")
    for kind, extensions in (
        ("image", _IMAGE_EXTENSIONS),
        ("audio", _AUDIO_EXTENSIONS),
        ("video", _VIDEO_EXTENSIONS),
    ):
        if any("." + extension in content for extension in extensions):
            return kind
    return "text"


def parse_plan(nodes: Sequence[Mapping[str, Any]], output_types: Mapping[str, str]) -> Parsed:
    """Read a TaskBench-shaped plan as evaluate.py does.

    An argument object counts by its first value, a list by its items joined with spaces. A ``<node-j>``
    argument (the first one in the text) is a link from node j; one pointing at its own node is dropped.
    An argument evaluate.py cannot read (a number, ``<node-0_>``, a missing node) repeats the plan's
    previous argument, as evaluate.py's leftover variable makes it do; the plan's first one is dropped
    (there it would come from another plan or drop the request).

    Args:
        nodes: ``[{"task", "arguments"}]``.
        output_types: the benchmark's tools -> the type of their output.

    Returns:
        The parsed plan.
    """
    names = tuple(str(node["task"]).replace("_", " ") for node in nodes)
    links: list[tuple[str, str]] = []
    arguments: list[tuple[tuple[str, str], ...]] = []
    previous: tuple[str, str] | None = None
    for index, node in enumerate(nodes):
        typed: list[tuple[str, str]] = []
        for raw in node.get("arguments", []) or []:
            argument = _as_text(raw)
            source = _reference(argument, index, names) if argument and "<node-" in argument else None
            if argument is None or source == _UNREADABLE:
                if previous is not None:
                    typed.append(previous)
                continue
            if source == _ITSELF:
                continue
            if source is None:
                previous = (content_type(argument), argument)
            else:
                links.append((source, str(node["task"])))
                previous = (output_types.get(source, "other"), source)
            typed.append(previous)
        arguments.append(tuple(typed))
    return Parsed(names, tuple(links), tuple(arguments))


def _as_text(raw: Any) -> str | None:
    if isinstance(raw, dict):
        raw = next(iter(raw.values()), None)
    if isinstance(raw, list):
        raw = " ".join(raw) if all(isinstance(item, str) for item in raw) else None
    return raw if isinstance(raw, str) else None


_ITSELF: Final = "\0itself"
_UNREADABLE: Final = "\0unreadable"


def _reference(argument: str, index: int, names: Sequence[str]) -> str:
    """Return the name of the node a ``<node-j>`` argument points to, or `_ITSELF` or `_UNREADABLE`."""
    start = argument.index("<node-") + len("<node-")
    try:
        target = int(argument[start : argument.index(">")])
        return _ITSELF if target == index else names[target]
    except (ValueError, IndexError):
        return _UNREADABLE


@dataclass(frozen=True)
class RequestScore:
    """One request's counts for each metric (see `METRICS`)."""

    counts: Mapping[str, Counts]

    def f1(self, metric: str) -> float | None:
        """Return this request's F1 for ``metric`` in percent (None: nothing to score)."""
        return self.counts[metric].f1


def score_request(
    gold_nodes: Sequence[Mapping[str, Any]],
    predicted_nodes: Sequence[Mapping[str, Any]],
    output_types: Mapping[str, str],
) -> RequestScore:
    """Score one predicted plan against the gold one, both TaskBench-shaped.

    Args:
        gold_nodes: the gold ``task_nodes``.
        predicted_nodes: the predicted ``task_nodes`` (empty for no plan).
        output_types: the benchmark's tools -> their output type; node F1 counts only these tools.

    Returns:
        The counts of each metric.
    """
    gold, predicted = parse_plan(gold_nodes, output_types), parse_plan(predicted_nodes, output_types)
    return RequestScore(
        {
            "node": compare(
                (name for name in gold.names if name in output_types),
                (name for name in predicted.names if name in output_types),
            ),
            "link": compare(gold.links, predicted.links),
            "arg_name": compare(gold.arg_names(), predicted.arg_names()),
            "arg_value": compare(gold.arg_values(), predicted.arg_values()),
        }
    )


@dataclass(frozen=True)
class Outcome:
    """One request's result: its shape, score, and how planning went.

    Attributes:
        shape: ``single``, ``chain`` or ``dag``.
        score: its metric counts.
        valid: whether the planner returned a valid plan.
        attempts: planning calls made (1 when no repair was needed).
        seconds: time spent planning.
    """

    shape: str
    score: RequestScore
    valid: bool = True
    attempts: int = 1
    seconds: float = 0.0


@dataclass(frozen=True)
class Summary:
    """Pooled metrics of a group of requests.

    Attributes:
        n: how many requests.
        f1: each metric's micro F1 in percent (None: nothing to score).
        valid_percent: the share of requests that got a valid plan.
        repairs: planning calls after the first, per request.
        seconds_p50: the median time per plan.
        seconds_p90: the 90th percentile of the time per plan.
        totals: each metric's pooled counts.
    """

    n: int
    f1: Mapping[str, float | None]
    valid_percent: float | None
    repairs: float | None
    seconds_p50: float | None
    seconds_p90: float | None
    totals: Mapping[str, Counts] = field(default_factory=dict)


def summarize(outcomes: Sequence[Outcome]) -> Summary:
    """Pool the counts of ``outcomes`` (micro F1) and average how planning went.

    Returns:
        The summary; rates and times are None for no outcomes.
    """
    totals = {metric: sum((o.score.counts[metric] for o in outcomes), Counts()) for metric in METRICS}
    if not outcomes:
        return Summary(0, {m: None for m in METRICS}, None, None, None, None, totals)
    seconds = sorted(outcome.seconds for outcome in outcomes)
    return Summary(
        n=len(outcomes),
        f1={metric: totals[metric].f1 for metric in METRICS},
        valid_percent=100.0 * sum(outcome.valid for outcome in outcomes) / len(outcomes),
        repairs=sum(max(outcome.attempts - 1, 0) for outcome in outcomes) / len(outcomes),
        seconds_p50=percentile(seconds, 50),
        seconds_p90=percentile(seconds, 90),
        totals=totals,
    )


def summarize_by_shape(outcomes: Sequence[Outcome]) -> dict[str, Summary]:
    """Return the summaries of all outcomes (``overall``) and of each shape (single, chain, dag)."""
    groups = {"overall": list(outcomes)}
    for shape in ("single", "chain", "dag"):
        groups[shape] = [outcome for outcome in outcomes if outcome.shape == shape]
    return {name: summarize(group) for name, group in groups.items()}


def percentile(sorted_values: Sequence[float], percent: float) -> float:
    """Return the ``percent`` percentile of sorted values, interpolated linearly (numpy's default)."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    rank = (len(sorted_values) - 1) * percent / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)
