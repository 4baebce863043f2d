"""Fitting the planning prompt into a context window: what gives way, in which order, and when it cannot."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from graph.prompt_fit import (
    DEFAULT_WINDOW,
    SAFETY_TOKENS,
    PlanPrompt,
    PromptTooLongError,
    PromptWindow,
    fit_prompt,
    window_of,
)
from graph.prompts import demos
from tests.fakes import ScriptedChatModel
from tools.registry import TASKS


def words(messages) -> int:
    """A tokenizer where every word is a token: exact, and easy to reason about."""
    return sum(len(str(message.content).split()) for message in messages)


def window(budget: int) -> PromptWindow:
    return PromptWindow(size=budget + 100 + SAFETY_TOKENS, reserve=100, count=words, exact=True)


HISTORY = [
    HumanMessage("first question " + "old " * 30),
    AIMessage("first answer " + "old " * 30),
    HumanMessage("second question " + "newer " * 30),
    AIMessage("second answer " + "newer " * 30),
]


@pytest.fixture
def prompt() -> PlanPrompt:
    return PlanPrompt("summarize this text please", TASKS, demos()[:3], HISTORY)


def shown(messages):
    """Return (demos shown, task list detail, history messages shown) of a fitted prompt."""
    system = messages[0].content
    if "- summarization:" not in system:
        detail = "names"
    elif f"- summarization: {TASKS['summarization'].description}" not in system:
        detail = "short"
    else:
        detail = "full"
    demo_count = sum(isinstance(m, AIMessage) and m.content.startswith('{"tasks"') for m in messages)
    history = sum(any(message is turn for turn in HISTORY) for message in messages)
    return demo_count, detail, history


def test_a_prompt_that_fits_is_sent_whole(prompt):
    whole = prompt.messages()
    assert fit_prompt(prompt, window(words(whole))) == whole
    assert shown(whole) == (3, "full", 4)
    assert isinstance(whole[0], SystemMessage) and "summarize this text please" in whole[-1].content


def test_demos_give_way_first_the_least_similar_first(prompt):
    whole = prompt.messages()
    fitted = fit_prompt(prompt, window(words(whole) - 1))
    assert shown(fitted) == (2, "full", 4)
    assert [m.content for m in fitted[1:5]] == [m.content for m in whole[1:5]]  # the two nearest kept


def test_then_the_task_list_then_the_oldest_turns(prompt):
    no_demos = prompt.messages(next(layout for layout in prompt.layouts() if layout.demos == 0))
    assert shown(fit_prompt(prompt, window(words(no_demos)))) == (0, "full", 4)
    assert shown(fit_prompt(prompt, window(words(no_demos) - 1))) == (0, "short", 4)
    names_only = [layout for layout in prompt.layouts() if layout.detail == "names"][0]
    bare_tasks = words(prompt.messages(names_only))
    assert shown(fit_prompt(prompt, window(bare_tasks))) == (0, "names", 4)
    trimmed = fit_prompt(prompt, window(bare_tasks - 1))
    assert shown(trimmed) == (0, "names", 2)
    assert trimmed[1] is HISTORY[2]  # the newer turn stays, starting on a human message
    no_history = fit_prompt(prompt, window(bare_tasks - 70))
    assert shown(no_history) == (0, "names", 0)


def test_a_request_too_long_for_the_window_is_a_clear_error(prompt):
    with pytest.raises(
        PromptTooLongError, match=r"too long for the controller: .* 50 fit in the 166-token"
    ) as exact:
        fit_prompt(prompt, window(50))
    assert "controller_context_tokens" not in str(
        exact.value
    )  # a setting cannot grow a loaded model's window
    estimated = PromptWindow(size=166, reserve=100, count=words, exact=False)
    with pytest.raises(
        PromptTooLongError, match="set controller_context_tokens if the model's window is larger"
    ):
        fit_prompt(prompt, estimated)


def test_a_repair_exchange_counts_too(prompt):
    whole = prompt.messages()
    repair = [AIMessage("bad " * 10), HumanMessage("fix it")]
    fitted = fit_prompt(prompt, window(words(whole)), repair)
    assert fitted[-2:] == repair and shown(fitted)[0] == 2


def test_window_of_api_controllers_uses_setting_then_profile_then_default():
    known = ChatOpenAI(model="gpt-4o-mini", api_key="x")
    assert window_of(known).size == 128000 and not window_of(known).exact
    assert window_of(known, configured=2048).size == 2048
    unknown = ChatOpenAI(model="my-model", api_key="x", base_url="http://127.0.0.1:9/v1", max_tokens=300)
    assert window_of(unknown).size == DEFAULT_WINDOW and window_of(unknown).reserve == 300
    assert window_of(ScriptedChatModel()).size == DEFAULT_WINDOW
