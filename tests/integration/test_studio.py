"""LangGraph Studio's server, for real: `langgraph dev` (no --allow-blocking) driven by `langgraph_sdk`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from tests.integration.openai_server import ScriptedOpenAIServer
from tests.integration.servers import (
    ANSWER,
    BIN,
    REPO,
    ServerProcess,
    fake_settings,
    free_port,
    server_env,
    wait_for,
)

pytestmark = pytest.mark.slow

GRAPH = "hugginggpt"
PLAN = [
    {"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "a long text"}},
    {"id": 1, "task": "text-to-speech", "dep": [0], "args": {"text": "<GENERATED>-0"}},
]


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory, controller: ScriptedOpenAIServer) -> Iterator[str]:
    """`langgraph dev` serving this repository's graph (as langgraph.json names it) on a free port."""
    tmp = tmp_path_factory.mktemp("studio")
    config = {"dependencies": [str(REPO)], "graphs": {GRAPH: f"{REPO}/graph/builder.py:graph"}, "env": {}}
    (tmp / "langgraph.json").write_text(json.dumps(config), encoding="utf-8")
    broken = [
        {
            "id": "broken/classifier",
            "task": "image-classification",
            "options": {"fail": "weights are corrupt"},
        }
    ]
    env = server_env(controller.url, HUGGINGGPT_CONFIG=str(fake_settings(tmp, broken, max_attempts=1)))
    port = free_port()
    command = [str(BIN / "langgraph"), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--config", str(tmp / "langgraph.json")]
    process = ServerProcess(command, env, tmp, r"(http://127\.0\.0\.1:\d+)", timeout_s=120)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _ok(url), 60, "langgraph dev to answer /ok")
    yield url
    log = process.output()
    process.stop()
    assert "Blocking call" not in log and "BlockingError" not in log, log[-4000:]
    assert "unregistered type" not in log, log[-4000:]


def _ok(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ok", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
async def client(studio: str) -> AsyncIterator[Any]:
    yield get_client(url=studio)


def user(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


async def test_studio_shows_the_input_form_and_the_settings(client: Any) -> None:
    assistant = (await client.assistants.search(graph_id=GRAPH))[0]
    schemas = await client.assistants.get_schemas(assistant["assistant_id"])
    assert {"messages", "plan"} <= set(schemas["input_schema"]["properties"])
    settings = schemas["context_schema"]["properties"]
    assert {"controller", "top_k", "review_plan", "task_timeout_s"} <= set(settings)
    assert settings["top_k"]["description"].startswith("Candidate models")


async def test_a_planned_request_streams_each_stage_and_task(
    client: Any, controller: ScriptedOpenAIServer
) -> None:
    controller.script({"tasks": PLAN}, "Done: summarized and read aloud.")
    thread = await client.threads.create()
    seen = []
    async for part in client.runs.stream(
        thread["thread_id"],
        GRAPH,
        input=user("summarize a long text and read it aloud"),
        stream_mode="updates",
    ):
        if part.event == "updates":
            seen.extend(part.data)
    assert seen == ["plan", "select", "run_task", "run_task", "execute", "respond"]
    state = await client.threads.get_state(thread["thread_id"])
    values = state["values"]
    assert [task["task"] for task in values["tasks"]] == ["summarization", "text-to-speech"]
    assert [result["status"] for result in values["results"]] == ["done", "done"]
    assert values["answer"].startswith("Done: summarized and read aloud.")
    assert state["next"] == []


async def test_a_given_plan_and_a_second_turn_that_sees_the_first(
    client: Any, controller: ScriptedOpenAIServer
) -> None:
    thread = (await client.threads.create())["thread_id"]
    first = await client.runs.wait(thread, GRAPH, input={**user("first: read this"), "plan": PLAN})
    assert first["answer"].startswith(ANSWER) and first["plan_attempts"] == 0
    controller.script({"tasks": PLAN[:1]}, "Second answer.")
    second = await client.runs.wait(thread, GRAPH, input=user("second: again"))
    assert second["answer"].startswith("Second answer.")
    assert [m["type"] for m in second["messages"]] == ["human", "ai", "human", "ai"]
    planner_prompt = " ".join(str(m.get("content")) for m in controller.bodies[-2]["messages"])
    assert "first: read this" in planner_prompt and ANSWER in planner_prompt


async def test_a_failing_task_is_reported_and_its_dependents_skipped(client: Any) -> None:
    plan = [
        {"id": 0, "task": "text-to-image", "dep": [-1], "args": {"text": "a fox"}},
        {"id": 1, "task": "image-classification", "dep": [0], "args": {"image": "<GENERATED>-0"}},
        {"id": 2, "task": "text-to-speech", "dep": [1], "args": {"text": "<GENERATED>-1"}},
    ]
    thread = (await client.threads.create())["thread_id"]
    final = await client.runs.wait(thread, GRAPH, input={**user("draw, classify, read"), "plan": plan})
    statuses = [result["status"] for result in final["results"]]
    assert statuses == ["done", "failed", "skipped"], final["results"]
    assert "weights are corrupt" in final["results"][1]["error"]


async def _reviewed(client: Any, resume: Any) -> dict[str, Any]:
    thread = (await client.threads.create())["thread_id"]
    stopped = await client.runs.wait(
        thread, GRAPH, input={**user("read it"), "plan": PLAN}, context={"review_plan": True}
    )
    assert "results" not in stopped or stopped["results"] == []
    state = await client.threads.get_state(thread)
    assert state["next"] == ["review"]
    question = state["tasks"][0]["interrupts"][0]["value"]
    assert [task["task"] for task in question["tasks"]] == ["summarization", "text-to-speech"]
    return await client.runs.wait(thread, GRAPH, command={"resume": resume}, context={"review_plan": True})


async def test_plan_review_approved_runs_the_plan(client: Any) -> None:
    final = await _reviewed(client, {"action": "approve"})
    assert [r["task"] for r in final["results"]] == ["summarization", "text-to-speech"]


async def test_plan_review_edited_runs_the_edited_plan(client: Any) -> None:
    edited = [{"id": 0, "task": "text-to-image", "dep": [-1], "args": {"text": "a red fox"}}]
    final = await _reviewed(client, {"action": "edit", "plan": edited})
    assert [r["task"] for r in final["results"]] == ["text-to-image"] and final["results"][0][
        "status"
    ] == "done"


async def test_plan_review_rejected_runs_nothing(client: Any) -> None:
    final = await _reviewed(client, {"action": "reject", "reason": "wrong voice"})
    assert final["results"] == [] and final["answer"].startswith("Nothing was run: the plan was rejected")
    assert "wrong voice" in final["answer"]


def test_the_repository_config_names_this_graph() -> None:
    config = json.loads((REPO / "langgraph.json").read_text(encoding="utf-8"))
    module, _, name = config["graphs"][GRAPH].partition(":")
    assert Path(REPO / module).is_file() and name == "graph"
