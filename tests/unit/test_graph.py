import asyncio
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from PIL import Image

from graph.builder import graph
from tests.fakes import fake_card, fake_catalog, make_harness, plan_reply

MERMAID = Path(__file__).with_name("graph.mermaid")


def task(id, name, args, dep=(-1,)):
    return {"id": id, "task": name, "dep": list(dep), "args": args}


@pytest.fixture
def photo(tmp_path):
    Image.new("RGB", (16, 16), "blue").save(tmp_path / "cat.png")
    return "cat.png"


async def run(harness, request="do it", **inputs):
    return await harness.run(request, **inputs)


def by_id(state):
    return {result["id"]: result for result in state["results"]}


FIVE_TASKS = [
    task(0, "image-classification", {"image": "cat.png"}),
    task(1, "text-to-speech", {"text": "<GENERATED>-0"}, [0]),
    task(2, "text-to-image", {"text": "a dog"}),
    task(3, "object-detection", {"image": "<GENERATED>-2"}, [2]),
    task(4, "summarization", {"text": "<GENERATED>-0 and <GENERATED>-3"}, [0, 3]),
]


async def test_five_task_plan_with_two_branches_and_a_join(tmp_path, photo):
    context = make_harness(tmp_path, [plan_reply(*FIVE_TASKS), "Here you go."])
    state = await run(context)
    results = by_id(state)
    assert [r["status"] for r in results.values()] == ["done"] * 5
    assert Path(results[1]["outputs"]["audio"]).is_file() and Path(results[3]["outputs"]["image"]).is_file()
    # the join task saw both branches' outputs, resolved from <GENERATED>-N of the right modality
    assert results[0]["outputs"]["text"] in results[4]["args"]["text"]
    assert results[3]["args"]["image"] == results[2]["outputs"]["image"]
    assert state["answer"].startswith("Here you go.")
    assert results[1]["outputs"]["audio"] in state["answer"]
    assert state["messages"][-1].content == state["answer"]


async def test_given_plan_skips_the_planner(tmp_path, photo):
    context = make_harness(tmp_path, ["Answer."])
    state = await run(context, plan=FIVE_TASKS[:2])
    assert state["plan_attempts"] == 0 and len(state["results"]) == 2
    prompts = context.llm.prompts
    assert len(prompts) == 1 and "Expert models have worked" in prompts[0][0].content


async def test_invalid_given_plan_is_reported_without_running(tmp_path):
    context = make_harness(tmp_path)
    state = await run(context, plan=[task(0, "summarization", {"text": "<GENERATED>-3"}, [3])])
    assert "the given plan is invalid" in state["plan_error"] and state["results"] == []
    assert "could not make a plan" in state["answer"]
    assert context.llm.prompts == []


async def test_invalid_plan_goes_back_to_the_llm_with_the_error(tmp_path):
    bad = plan_reply(task(0, "summarization", {"text": "<GENERATED>-4"}, [4]))
    good = plan_reply(task(0, "summarization", {"text": "hello"}))
    context = make_harness(tmp_path, ["no json here", bad, good, "ok"])
    state = await run(context)
    assert state["plan_attempts"] == 3 and state["plan_error"] is None
    repair = context.llm.prompts[2][-1].content
    assert "missing or later task" in repair


async def test_plan_retries_are_bounded_and_the_reason_kept(tmp_path):
    bad = plan_reply(task(0, "mind-reading", {"text": "x"}))
    context = make_harness(tmp_path, [bad, bad, bad, bad], max_plan_retries=1)
    state = await run(context)
    assert state["plan_attempts"] == 2
    assert "no valid plan after 2 attempt(s)" in state["plan_error"] and "mind-reading" in state["plan_error"]
    assert state["tasks"] == [] and "could not make a plan" in state["answer"]
    assert len(context.llm.prompts) == 2  # no answer call: nothing to answer from


async def test_independent_tasks_overlap_in_time(tmp_path):
    catalog = fake_catalog([fake_card("slow", "summarization", 10**9, sleep=0.4)])
    plan = [task(i, "summarization", {"text": f"text {i}"}) for i in range(4)]
    context = make_harness(tmp_path, ["ok"], catalog=catalog)
    state = await run(context, plan=plan)
    results = state["results"]
    assert all(r["status"] == "done" and r["model"] == "slow" for r in results)
    latest_start = max(r["started_at"] for r in results)
    earliest_end = min(r["ended_at"] for r in results)
    assert latest_start < earliest_end  # every task was running at the same moment


async def test_a_task_starts_when_its_own_inputs_exist(tmp_path):
    catalog = fake_catalog(
        [
            fake_card("quick", "summarization", 10**9, sleep=0.1),
            fake_card("slow-image", "text-to-image", 10**9, sleep=1.0),
        ]
    )
    plan = [
        task(0, "summarization", {"text": "a"}),
        task(1, "text-to-speech", {"text": "<GENERATED>-0"}, [0]),
        task(2, "text-to-image", {"text": "b"}),
    ]
    state = await run(make_harness(tmp_path, ["ok"], catalog=catalog), plan=plan)
    results = by_id(state)
    assert results[1]["started_at"] >= results[0]["ended_at"]
    assert results[1]["ended_at"] < results[2]["ended_at"]  # readiness, not waves: it did not wait for task 2


async def test_failure_skips_dependents_and_independent_branches_go_on(tmp_path, photo):
    catalog = fake_catalog([fake_card("broken", "image-classification", 10**9, fail="weights are corrupt")])
    plan = [
        task(0, "image-classification", {"image": "cat.png"}),
        task(1, "text-to-speech", {"text": "<GENERATED>-0"}, [0]),
        task(2, "automatic-speech-recognition", {"audio": "<GENERATED>-1"}, [1]),
        task(3, "text-to-image", {"text": "a dog"}),
    ]
    state = await run(make_harness(tmp_path, ["ok"], catalog=catalog, max_attempts=1), plan=plan)
    results = by_id(state)
    assert results[0]["status"] == "failed" and "weights are corrupt" in results[0]["error"]
    assert results[1]["status"] == "skipped" and "task 0 (image-classification) failed" in results[1]["error"]
    assert results[2]["status"] == "skipped" and "task 1" in results[2]["error"]
    assert results[3]["status"] == "done"


async def test_failing_model_falls_back_to_the_next_candidate(tmp_path, photo):
    catalog = fake_catalog([fake_card("broken", "image-classification", 10**9, fail="out of memory")])
    context = make_harness(tmp_path, ["ok"], catalog=catalog, max_attempts=2)
    state = await run(context, plan=[task(0, "image-classification", {"image": "cat.png"})])
    result = state["results"][0]
    assert result["status"] == "done" and result["model"] == "fake/image-classification-model"
    assert [a["model"] for a in result["attempts"]] == ["broken", "fake/image-classification-model"]
    assert "out of memory" in result["attempts"][0]["error"]


async def test_missing_input_file_fails_without_trying_other_models(tmp_path):
    catalog = fake_catalog([fake_card("first", "image-classification", 10**9)])
    state = await run(
        make_harness(tmp_path, catalog=catalog),
        plan=[task(0, "image-classification", {"image": "nowhere.png"})],
    )
    result = state["results"][0]
    assert result["status"] == "failed" and "input file not found: nowhere.png" in result["error"]
    assert len(result["attempts"]) == 1
    assert "could not complete any part" in state["answer"]


async def test_task_timeout(tmp_path):
    catalog = fake_catalog([fake_card("stuck", "summarization", 10**9, sleep=2)])
    context = make_harness(tmp_path, catalog=catalog, task_timeout_s=0.2, max_attempts=1)
    state = await run(context, plan=[task(0, "summarization", {"text": "x"})])
    assert (
        state["results"][0]["status"] == "failed" and "timed out after 0.2s" in state["results"][0]["error"]
    )


async def test_one_candidate_needs_no_selection_call(tmp_path):
    context = make_harness(tmp_path, [plan_reply(task(0, "summarization", {"text": "x"})), "ok"])
    state = await run(context)
    assert state["selections"][0]["reason"] == "the only available candidate"
    assert len(context.llm.prompts) == 2  # plan + respond


async def test_one_selection_call_for_all_ambiguous_tasks(tmp_path):
    catalog = fake_catalog([fake_card("sum-b", "summarization", 5), fake_card("tts-b", "text-to-speech", 5)])
    plan = plan_reply(task(0, "summarization", {"text": "x"}), task(1, "text-to-speech", {"text": "y"}))
    choices = {
        "choices": [
            {"task_id": 0, "model": "sum-b", "reason": "fits the text"},
            {"task_id": 1, "model": "invented/model", "reason": "made up"},
        ]
    }
    context = make_harness(tmp_path, [plan, choices, "ok"], catalog=catalog)
    state = await run(context)
    selections = {s["id"]: s for s in state["selections"]}
    assert (
        selections[0]["model"] == "sum-b"
        and selections[0]["by_llm"]
        and selections[0]["reason"] == "fits the text"
    )
    assert selections[1]["model"] == "fake/text-to-speech-model"  # unknown id -> the top-ranked candidate
    assert "not a candidate" in selections[1]["reason"]
    assert selections[0]["candidates"] == ["sum-b", "fake/summarization-model"]
    assert len(context.llm.prompts) == 3  # plan + one select + respond


async def test_task_without_available_model(tmp_path):
    catalog = fake_catalog()
    catalog = type(catalog)(tuple(c for c in catalog.cards if c.task != "text-to-image"))
    plan = [task(0, "text-to-image", {"text": "x"}), task(1, "summarization", {"text": "<GENERATED>-0"}, [0])]
    plan[1]["args"]["text"] = "caption"
    plan[1]["dep"] = [-1]
    state = await run(make_harness(tmp_path, ["ok"], catalog=catalog), plan=plan)
    results = by_id(state)
    assert (
        results[0]["status"] == "failed"
        and results[0]["error"] == "no model available offline for text-to-image: the catalog lists none"
    )
    assert results[1]["status"] == "done"


async def test_chat_history_reaches_the_planner_and_state_resets_per_turn(tmp_path):
    first = plan_reply(task(0, "summarization", {"text": "x"}), task(1, "summarization", {"text": "y"}))
    second = plan_reply(task(0, "text-to-image", {"text": "z"}))
    harness = make_harness(
        tmp_path, [first, "first answer", second, "second answer"], checkpointer=InMemorySaver()
    )
    config = {"configurable": {"thread_id": "t"}}
    await harness.run("summarize please", config)
    state = await harness.run("now draw", config)
    assert [r["task"] for r in state["results"]] == ["text-to-image"]  # the earlier turn's results are gone
    planner_prompt = harness.llm.prompts[2]
    texts = [m.content for m in planner_prompt]
    assert "summarize please" in " ".join(texts) and any(
        isinstance(m, AIMessage) and "first answer" in m.content for m in planner_prompt
    )


async def test_answer_call_failure_keeps_results(tmp_path):
    context = make_harness(tmp_path, [RuntimeError("controller down")])
    state = await run(context, plan=[task(0, "summarization", {"text": "x"})])
    assert "could not write an answer" in state["answer"] and "task 0 summarization" in state["answer"]


def test_graph_wiring_snapshot():
    drawn = graph.get_graph().draw_mermaid()
    if not MERMAID.exists():  # first run writes the snapshot; commit it
        MERMAID.write_text(drawn)
    assert drawn == MERMAID.read_text()


def test_concurrent_runs_do_not_share_state(tmp_path):
    async def both():
        a = make_harness(tmp_path / "a", ["x"])
        b = make_harness(tmp_path / "b", ["y"])
        plan = [task(0, "summarization", {"text": "x"})]
        return await asyncio.gather(run(a, plan=plan), run(b, plan=plan))

    first, second = asyncio.run(both())
    assert first["run_id"] != second["run_id"]
    assert first["answer"].startswith("x") and second["answer"].startswith("y")


async def test_controller_failure_while_planning_is_reported(tmp_path):
    context = make_harness(tmp_path, [ConnectionError("connection refused")])
    state = await run(context)
    assert "ConnectionError: connection refused" in state["plan_error"]
    assert state["plan_attempts"] == 1 and state["results"] == []
    assert "could not make a plan" in state["answer"]


async def test_empty_optional_arguments_are_dropped_from_the_plan(tmp_path):
    reply = plan_reply(task(0, "translation", {"text": "bonjour", "target": "", "image": " "}))
    context = make_harness(tmp_path, [reply, "ok"])
    state = await run(context)
    assert state["plan_error"] is None
    assert state["tasks"][0]["args"] == {"text": "bonjour"}
