"""Plan review in-process: the run stops after planning; approve, edit (valid or not) and reject."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from graph.review import understand
from tests.fakes import make_harness

PLAN = [{"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "x"}}]
CONFIG = {"configurable": {"thread_id": "review"}}


async def stopped_run(tmp_path):
    harness = make_harness(tmp_path, ["answer"] * 3, checkpointer=InMemorySaver(), review_plan=True)
    state = await harness.run("summarize x", CONFIG, plan=PLAN)
    assert "results" not in state or state["results"] == []
    question = state["__interrupt__"][0].value
    assert question["tasks"][0]["task"] == "summarization" and "approve" in question["how"]
    return harness


async def resume(harness, answer):
    return await harness.graph.ainvoke(Command(resume=answer), CONFIG, context=harness.context)


async def test_approved_plan_runs(tmp_path):
    final = await resume(await stopped_run(tmp_path), "approve")
    assert [r["status"] for r in final["results"]] == ["done"]


async def test_edited_plan_runs_instead(tmp_path):
    edited = [{"id": 0, "task": "text-to-image", "dep": [-1], "args": {"text": "a fox"}}]
    final = await resume(await stopped_run(tmp_path), {"action": "edit", "plan": edited})
    assert [r["task"] for r in final["results"]] == ["text-to-image"]


async def test_invalid_edit_asks_again_with_the_problem(tmp_path):
    harness = await stopped_run(tmp_path)
    again = await resume(harness, {"action": "edit", "plan": [{"id": 0, "task": "mind-reading", "args": {}}]})
    problem = again["__interrupt__"][0].value["problem"]
    assert "unknown task type 'mind-reading'" in problem
    final = await resume(harness, True)
    assert [r["task"] for r in final["results"]] == ["summarization"]


async def test_rejected_plan_runs_nothing(tmp_path):
    harness = await stopped_run(tmp_path)
    final = await resume(harness, {"action": "reject", "reason": "not now"})
    assert (
        final["results"] == []
        and final["answer"] == "Nothing was run: the plan was rejected by the reviewer: not now."
    )
    assert len(harness.llm.prompts) == 0  # no answer call for a rejected plan


def test_without_review_plan_nothing_stops(tmp_path):
    import asyncio

    harness = make_harness(tmp_path, ["answer"], checkpointer=InMemorySaver())
    state = asyncio.run(harness.run("x", CONFIG, plan=PLAN))
    assert "__interrupt__" not in state and state["results"][0]["status"] == "done"


@pytest.mark.parametrize(
    ("answer", "action"),
    [("approve", "approve"), ("yes", "approve"), (False, "reject"), ({"plan": PLAN}, "edit"), (PLAN, "edit")],
)
def test_answers_are_understood(answer, action):
    assert understand(answer).action == action


@pytest.mark.parametrize("answer", ["maybe", {"action": "edit"}, {"action": "dance"}, 42])
def test_unclear_answers_say_how_to_answer(answer):
    with pytest.raises(ValueError, match="approve|plan"):
        understand(answer)
