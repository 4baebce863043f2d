"""The planning prompt fits the embedded controller's window, in its own tokens, however long the chat."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from graph.context import Context
from graph.llm import load_chat_model
from graph.plan import make_plan, nearest_demos, trim_history
from graph.prompt_fit import PlanPrompt, fit_prompt, window_of
from tests.integration.test_llm import embedded
from tools.registry import TASKS

pytestmark = [pytest.mark.embedded, embedded]  # skips, saying why, without the SmolLM2 wheel

REQUEST = "Summarize this: the meeting moved to Friday because the room was booked."


@pytest.fixture(scope="module")
def smollm2():
    return load_chat_model("local/smollm2")  # the embedded models' window: 4096, 1024 kept for the reply


@pytest.fixture(scope="module")
def small_window():
    """SmolLM2 with a 1024-token window: the whole trimming path, with prompts that decode in seconds."""
    return load_chat_model("local/smollm2", n_ctx=1024, max_tokens=256)


def long_chat(turns: int) -> list:
    """A chat far longer than the window: each turn a few hundred tokens of varied text."""
    history = []
    for turn in range(turns):
        history.append(HumanMessage(f"Question {turn}: " + " ".join(f"word{turn}x{i}" for i in range(120))))
        history.append(AIMessage(f"Answer {turn}: " + " ".join(f"reply{turn}y{i}" for i in range(120))))
    return history


def test_the_count_is_the_models_own_prompt_length(small_window):
    registry = {name: TASKS[name] for name in ("summarization", "text-to-speech")}
    history = [HumanMessage("What is a cat?"), AIMessage("A small animal, often kept as a pet.")]
    messages = PlanPrompt(REQUEST, registry, nearest_demos(REQUEST, registry), history).messages()
    counted = small_window.count_tokens(messages)
    reply = small_window.invoke(messages, max_tokens=1)
    assert counted == reply.usage_metadata["input_tokens"]


def test_a_long_chat_history_never_overflows_the_window(smollm2):
    window = window_of(smollm2)
    assert (window.size, window.reserve, window.exact) == (4096, 1024, True)
    history = trim_history(long_chat(40), max_tokens=10**6)  # no history budget: only the window limits it
    prompt = PlanPrompt(REQUEST, TASKS, nearest_demos(REQUEST, TASKS), history)
    assert smollm2.count_tokens(prompt.messages()) > 3 * window.size
    fitted = fit_prompt(prompt, window)
    assert smollm2.count_tokens(fitted) <= window.budget
    assert fitted[-1].content.strip().endswith(REQUEST)
    assert any(message is history[-2] for message in fitted)  # the latest turn is what stays


async def test_planning_with_a_long_chat_still_plans(small_window):
    context = Context(history_tokens=10**6, max_plan_retries=0)
    tasks, attempts, error = await make_plan(REQUEST, long_chat(40), small_window, context, {})
    assert error is None and attempts == 1
    assert [task["task"] for task in tasks] == ["summarization"]


async def test_a_request_longer_than_the_window_is_refused_before_decoding(smollm2):
    request = "Summarize this: " + " ".join(f"item{i}" for i in range(1500))
    tasks, attempts, error = await make_plan(request, [], smollm2, Context(), {})
    assert tasks == [] and attempts == 1
    assert error is not None and "too long for the controller" in error and "4096-token" in error
