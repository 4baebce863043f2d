"""Fit the planning prompt into the controller's context window, counted in the controller's own tokens.

What gives way, in order: the few-shot demos (the least similar first), then the task list's detail (the
descriptions, then the arguments), then the chat history (the oldest turns first). A request that does not
fit even alone is an error that says so, before any controller call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately

from graph.embedded import EmbeddedChatModel
from graph.prompts import TASK_DETAILS, describe_tasks, render
from tools.registry import TaskSpec

logger = logging.getLogger(__name__)

DEFAULT_WINDOW = 8192
"""Context window assumed for an API controller that neither the settings nor its LangChain profile size."""
DEFAULT_REPLY_TOKENS = 1024
"""Tokens kept free for the plan itself when the controller sets no ``max_tokens``."""
SAFETY_TOKENS = 16
"""Tokens kept free beyond the reply's, for what a chat server adds around the prompt."""
APPROXIMATE_CHARS_PER_TOKEN = 3.0
"""Without the controller's tokenizer (API models, offline), count a token per 3 characters: English
averages about 4 in GPT and Llama vocabularies, so the estimate errs on the side of fitting."""


class PromptTooLongError(ValueError):
    """The request (with what must come with it) does not fit the controller's context window."""


@dataclass(frozen=True)
class PromptWindow:
    """How many tokens a controller's prompt may take, and how to count them."""

    size: int
    """The context window, in tokens."""
    reserve: int
    """Tokens kept for the reply."""
    count: Callable[[Sequence[BaseMessage]], int]
    """Counts a prompt's tokens."""
    exact: bool
    """Whether ``count`` uses the controller's own tokenizer (then it blocks: call it from a thread)."""

    @property
    def budget(self) -> int:
        """The most tokens the prompt may take."""
        return self.size - self.reserve - SAFETY_TOKENS


def window_of(llm: BaseChatModel, configured: int = 0) -> PromptWindow:
    """Return the prompt window of a controller.

    Args:
        llm: the controller.
        configured: the ``controller_context_tokens`` setting (0: the model's own figure).

    Returns:
        The embedded model's ``n_ctx`` counted by its own tokenizer and chat template; for another controller
        the configured window, else its LangChain profile's ``max_input_tokens``, else `DEFAULT_WINDOW`,
        counted approximately.
    """
    if isinstance(llm, EmbeddedChatModel):
        size = min(configured, llm.n_ctx) if configured > 0 else llm.n_ctx
        return PromptWindow(size, llm.max_tokens, llm.count_tokens, exact=True)
    profile = getattr(llm, "profile", None) or {}
    size = configured if configured > 0 else int(profile.get("max_input_tokens") or DEFAULT_WINDOW)
    reserve = int(getattr(llm, "max_tokens", None) or DEFAULT_REPLY_TOKENS)
    return PromptWindow(size, min(reserve, size // 2), approximate_tokens, exact=False)


def approximate_tokens(messages: Sequence[BaseMessage]) -> int:
    """Return a generous estimate of a prompt's tokens, for controllers whose tokenizer is not at hand."""
    return count_tokens_approximately(messages, chars_per_token=APPROXIMATE_CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Layout:
    """What one version of the prompt shows: how many demos, how much of the task list, which turns."""

    demos: int
    detail: str
    first_turn: int
    """Index in the history of the oldest turn shown."""


@dataclass(frozen=True)
class PlanPrompt:
    """The parts of a planning prompt, to be laid out whole or trimmed."""

    request: str
    registry: Mapping[str, TaskSpec]
    examples: Sequence[Mapping[str, Any]]
    """Few-shot demos, the most similar first."""
    history: Sequence[BaseMessage]
    """Earlier chat turns, oldest first."""

    def messages(self, layout: Layout | None = None, tail: Sequence[BaseMessage] = ()) -> list[BaseMessage]:
        """Return the prompt: instructions, demos, history, the request, then ``tail`` (a repair exchange).

        The instructions depend only on the registry, so llama.cpp's prefix cache keeps them from one
        request to the next; what changes with the request comes after them.
        """
        shown = layout or self.whole()
        tasks = describe_tasks(self.registry, shown.detail)
        messages: list[BaseMessage] = [SystemMessage(render("planner", tasks=tasks))]
        for demo in self.examples[: shown.demos]:
            messages.append(HumanMessage(render("plan_request", history="", request=demo["request"])))
            messages.append(AIMessage(json.dumps({"tasks": demo["plan"]})))
        messages.extend(self.history[shown.first_turn :])
        messages.append(HumanMessage(render("plan_request", history="", request=self.request)))
        messages.extend(tail)
        return messages

    def whole(self) -> Layout:
        """Return the layout that shows everything."""
        return Layout(len(self.examples), TASK_DETAILS[0], 0)

    def layouts(self) -> Iterator[Layout]:
        """Yield the layouts from whole to barest, in the order things give way."""
        full = TASK_DETAILS[0]
        for demos in range(len(self.examples), -1, -1):
            yield Layout(demos, full, 0)
        for detail in TASK_DETAILS[1:]:
            yield Layout(0, detail, 0)
        turns = [i for i, message in enumerate(self.history) if isinstance(message, HumanMessage) and i > 0]
        for first in [*turns, len(self.history)]:
            yield Layout(0, TASK_DETAILS[-1], first)


def fit_prompt(
    prompt: PlanPrompt, window: PromptWindow, tail: Sequence[BaseMessage] = ()
) -> list[BaseMessage]:
    """Return the fullest layout of ``prompt`` (plus ``tail``) that fits ``window``.

    Raises:
        PromptTooLongError: when even the request alone, with the bare task list, does not fit.
    """
    tokens = 0
    whole = prompt.whole()
    for layout in prompt.layouts():
        messages = prompt.messages(layout, tail)
        tokens = window.count(messages)
        if tokens <= window.budget:
            if layout != whole:
                logger.info(
                    "planning prompt trimmed to fit %d of %d tokens: %d of %d demos, task list %s, %d of %d "
                    "history messages",
                    tokens,
                    window.budget,
                    layout.demos,
                    len(prompt.examples),
                    layout.detail,
                    len(prompt.history) - layout.first_turn,
                    len(prompt.history),
                )
            return messages
    hint = "" if window.exact else ", or set controller_context_tokens if the model's window is larger"
    raise PromptTooLongError(
        f"the request is too long for the controller: its prompt takes {tokens} tokens, and "
        f"{window.budget} fit in the {window.size}-token context window (with {window.reserve} kept for "
        f"the plan); shorten the request or use a controller with a larger window{hint}"
    )
