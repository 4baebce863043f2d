"""The graph's LangServe endpoint, driven by `langserve.RemoteRunnable` against `hugginggpt serve`."""

from __future__ import annotations

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langserve import RemoteRunnable

from tests.integration.servers import ANSWER, ServerProcess

PLAN = [
    {"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "hello"}},
    {"id": 1, "task": "text-to-speech", "dep": [0], "args": {"text": "<GENERATED>-0"}},
]


def remote(server: ServerProcess, thread: str | None = None) -> RemoteRunnable:
    headers = {"X-Thread-Id": thread} if thread else None
    return RemoteRunnable(f"{server.url}/graph/", headers=headers)  # a fresh client: a 4xx ends the old one


def request(text: str = "read it aloud", plan: list | None = PLAN) -> dict:
    return {"messages": [HumanMessage(text)], "plan": plan}


def test_invoke_returns_the_state_with_messages_as_objects(server: ServerProcess) -> None:
    output = remote(server).invoke(request())
    assert output["answer"].startswith(ANSWER)
    assert [r["status"] for r in output["results"]] == ["done", "done"]
    assert isinstance(output["messages"][-1], AIMessage)


def test_chat_messages_as_role_dicts_work(server: ServerProcess) -> None:
    output = remote(server).invoke({"messages": [{"role": "user", "content": "hi"}], "plan": PLAN})
    assert output["answer"].startswith(ANSWER)


def test_batch_runs_each_input_in_its_own_thread(server: ServerProcess) -> None:
    outputs = remote(server).batch([request("a"), request("b"), request("c")])
    assert [len(o["results"]) for o in outputs] == [2, 2, 2]
    assert [[m.content for m in o["messages"]][0] for o in outputs] == ["a", "b", "c"]  # no shared history
    with pytest.raises(httpx.HTTPStatusError) as caught:
        remote(server, "one-thread").batch([request("a"), request("b")])
    assert caught.value.response.status_code == 422


def test_stream_yields_each_stage_and_each_task(server: ServerProcess) -> None:
    chunks = list(remote(server).stream(request()))
    nodes = [next(iter(chunk)) for chunk in chunks]
    assert nodes == ["plan", "select", "run_task", "run_task", "execute", "respond"]
    assert [chunks[2]["run_task"]["id"], chunks[3]["run_task"]["id"]] == [0, 1]


async def test_stream_events_has_a_tool_run_per_task_and_the_stages(server: ServerProcess) -> None:
    events = [event async for event in remote(server).astream_events(request(), version="v2")]
    tools = [event["name"] for event in events if event["event"] == "on_tool_end"]
    assert tools == ["summarization", "text-to-speech"]
    ended = {event["name"] for event in events if event["event"] == "on_chain_end"}
    assert {"plan", "select", "execute", "run_task", "respond"} <= ended


def test_a_thread_header_keeps_the_conversation(server: ServerProcess) -> None:
    remote(server, "langserve-thread").invoke(request("first"))
    output = remote(server, "langserve-thread").invoke(request("second"))
    assert [m.type for m in output["messages"]] == ["human", "ai", "human", "ai"]


def test_resume_of_an_unknown_thread_is_a_404(server: ServerProcess) -> None:
    with pytest.raises(httpx.HTTPStatusError) as caught:
        remote(server, "never-seen").invoke({"resume": "approve"})
    assert caught.value.response.status_code == 404


@pytest.mark.parametrize("path", ["playground/", "input_schema", "output_schema", "config_schema"])
def test_playground_and_schemas(server: ServerProcess, path: str) -> None:
    reply = httpx.get(f"{server.url}/graph/{path}", timeout=10)
    assert reply.status_code == 200
    if path == "input_schema":
        assert {"messages", "plan", "resume"} <= set(reply.json()["properties"])


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"input": {"messages": "hello"}}, "valid list"),
        ({"input": {"messages": [{"foo": 1}]}}, "must contain 'role' and 'content'"),
        ({"nothing": True}, "input"),
    ],
)
def test_bad_langserve_input_is_a_422(server: ServerProcess, payload: dict, says: str) -> None:
    reply = httpx.post(f"{server.url}/graph/invoke", json=payload, timeout=10)
    assert reply.status_code == 422 and says in reply.text
