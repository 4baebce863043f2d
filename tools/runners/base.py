"""The runner contract: how a model is loaded, and how a batch of task calls runs on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.artifacts import Workspace
from tools.models import ModelCard


class ModelUnavailableError(RuntimeError):
    """A model cannot be loaded, fetched or reached; the message names it, says why and what to do."""


@dataclass(frozen=True)
class LoadOptions:
    """Where and how a local model is placed.

    Attributes:
        device: ``cpu``, ``cuda``, ``cuda:1`` ...
        dtype: ``float32``, ``float16`` or ``bfloat16`` (fp16/bf16 only make sense on a GPU).
    """

    device: str = "cpu"
    dtype: str = "float32"


@dataclass(frozen=True)
class Call:
    """One task call: resolved arguments and where its files go.

    Attributes:
        args: argument name -> value; files are paths (strings), text is text.
        workspace: the run's workspace.
        stem: a readable prefix for produced files, e.g. ``task3-text-to-speech``.
        options: the model card's runner options.
        history: the conversation before this request, as ``(role, content)`` pairs (``user`` /
            ``assistant``), oldest first; conversational tasks reply in it, others ignore it.
    """

    args: dict[str, str]
    workspace: Workspace
    stem: str
    options: dict[str, Any] = field(default_factory=dict)
    history: tuple[tuple[str, str], ...] = ()


@dataclass
class TaskOutput:
    """What a task produced. Files are paths inside the workspace.

    Attributes:
        text: the text output, or a one-line text rendering of structured output (labels, boxes).
        image: path of a produced image.
        audio: path of a produced audio file.
        video: path of a produced video file.
        data: structured, JSON-serialisable details (labels, scores, boxes, ...).
    """

    text: str | None = None
    image: str | None = None
    audio: str | None = None
    video: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


Loader = Callable[[ModelCard, LoadOptions], Any]
Infer = Callable[[Any, Call], TaskOutput]
Outcome = TaskOutput | Exception
"""One call's result in a batch: its output, or the error that call alone raised."""
Forward = Callable[[Any, Sequence[Call]], list[Outcome]]


@dataclass(frozen=True)
class Runner:
    """Loads a model once (`load`), then serves batches of calls on it (`forward`).

    Attributes:
        name: the registry key, e.g. ``transformers/image-classification``.
        load: card + options -> a loaded model object (run off the event loop, cached by the backend).
        forward: loaded model + calls -> one outcome per call, in order (blocking; run off the event loop).
            Every call of a batch is for the same model card, so they share its options.
        max_batch: the most calls one forward takes; 1 for runners that take one call at a time.
        shares: runners with the same ``shares`` name share one loaded model per location (default: the
            runner's own name), e.g. the llama.cpp runners of one GGUF file.
        load_keys: the card options that change what ``load`` loads (part of the cache key); the other
            options are per call.
        batch_on_cpu: whether batches pay on a CPU too (on a GPU they always do); False for models whose
            batches run slower than single calls on a CPU, such as depthwise-convolution nets.
    """

    name: str
    load: Loader
    forward: Forward
    max_batch: int = 1
    shares: str = ""
    load_keys: tuple[str, ...] = ()
    batch_on_cpu: bool = True

    @classmethod
    def per_call(
        cls, name: str, load: Loader, infer: Infer, shares: str = "", load_keys: tuple[str, ...] = ()
    ) -> Runner:
        """Return a runner that takes one call at a time (``infer``: model + call -> output)."""
        return cls(name, load, one_by_one(infer), max_batch=1, shares=shares, load_keys=load_keys)

    @classmethod
    def batched(
        cls,
        name: str,
        load: Loader,
        steps: BatchSteps,
        max_batch: int = 8,
        shares: str = "",
        batch_on_cpu: bool = True,
    ) -> Runner:
        """Return a runner whose calls go through the model together (see `BatchSteps`)."""
        return cls(name, load, steps.forward, max_batch=max_batch, shares=shares, batch_on_cpu=batch_on_cpu)

    def cache_key(self, card: ModelCard) -> str:
        """Return the key of ``card``'s loaded model in a backend's cache."""
        loading = {key: card.options[key] for key in self.load_keys if key in card.options}
        suffix = f"::{sorted(loading.items())}" if loading else ""
        return f"{self.shares or self.name}::{card.location}{suffix}"

    def run(self, model: Any, call: Call) -> TaskOutput:
        """Run one call (a batch of one) and return its output.

        Raises:
            Exception: whatever the call raised.
        """
        (outcome,) = self.forward(model, [call])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def one_by_one(infer: Infer) -> Forward:
    """Return a forward that runs ``infer`` on each call in turn, keeping each call's error its own."""

    def forward(model: Any, calls: Sequence[Call]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for call in calls:
            try:
                outcomes.append(infer(model, call))
            except Exception as error:  # noqa: BLE001 - the error belongs to this call only
                outcomes.append(error)
        return outcomes

    return forward


@dataclass(frozen=True)
class BatchSteps:
    """The three steps of a batched forward.

    Attributes:
        prepare: model + call -> this call's input item (reads files, checks arguments; an error here fails
            only this call).
        infer: model + items + the card's options -> one raw result per item, from one pass through the model.
        finish: model + call + raw result -> the call's output (writes files, renders text).
    """

    prepare: Callable[[Any, Call], Any]
    infer: Callable[[Any, list[Any], dict[str, Any]], Sequence[Any]]
    finish: Callable[[Any, Call, Any], TaskOutput]

    def forward(self, model: Any, calls: Sequence[Call]) -> list[Outcome]:
        """Prepare every call, run the prepared ones as one batch, and finish each.

        When a batch of several fails as a whole, each call is retried alone, so that one bad input cannot
        fail the calls batched with it.
        """
        outcomes: list[Outcome | None] = [None] * len(calls)
        ready: list[tuple[int, Any]] = []
        for index, call in enumerate(calls):
            try:
                ready.append((index, self.prepare(model, call)))
            except Exception as error:  # noqa: BLE001 - the error belongs to this call only
                outcomes[index] = error
        if ready:
            for index, outcome in self._infer(model, calls, ready):
                outcomes[index] = outcome
        return [outcome if outcome is not None else RuntimeError("no result") for outcome in outcomes]

    def _infer(
        self, model: Any, calls: Sequence[Call], ready: list[tuple[int, Any]]
    ) -> list[tuple[int, Outcome]]:
        try:
            raws = list(self.infer(model, [item for _, item in ready], calls[ready[0][0]].options))
            if len(raws) != len(ready):
                raise RuntimeError(f"the model returned {len(raws)} results for {len(ready)} inputs")
        except Exception as error:  # noqa: BLE001 - retried alone below, or this call's error
            if len(ready) == 1:
                return [(ready[0][0], error)]
            return [pair for item in ready for pair in self._infer(model, calls, [item])]
        return [
            (index, self._finish(model, calls[index], raw))
            for (index, _), raw in zip(ready, raws, strict=True)
        ]

    def _finish(self, model: Any, call: Call, raw: Any) -> Outcome:
        try:
            return self.finish(model, call, raw)
        except Exception as error:  # noqa: BLE001 - the error belongs to this call only
            return error
