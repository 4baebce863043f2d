"""`hugginggpt serve` as clients use it: the JARVIS routes over plain HTTP, files, uploads, threads.

One server process for the module: fake models, the scripted OpenAI server as controller.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.integration.openai_server import ScriptedOpenAIServer
from tests.integration.servers import ANSWER, ServerProcess

PLAN = [
    {"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "a long text"}},
    {"id": 1, "task": "text-to-speech", "dep": [0], "args": {"text": "<GENERATED>-0"}},
    {"id": 2, "task": "text-to-image", "dep": [-1], "args": {"text": "a red square"}},
]


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def test_hugginggpt_answers_as_the_original_server_did(client: httpx.Client) -> None:
    reply = client.post("/hugginggpt", json={"model": "gpt-3.5-turbo", "messages": user("go"), "plan": PLAN})
    assert reply.status_code == 200
    body = reply.json()
    assert body["message"].startswith(ANSWER)
    assert reply.headers["x-thread-id"] == body["thread_id"]
    files = [word for word in body["message"].split() if word.startswith("/files/")]
    assert len(files) == 2 and {Path(f).suffix for f in files} == {".wav", ".png"}
    audio = client.get(files[0] if files[0].endswith(".wav") else files[1])
    assert audio.status_code == 200
    with wave.open(io.BytesIO(audio.content)) as sound:
        assert sound.getnframes() > 0


def test_tasks_returns_the_plan_in_jarvis_shape(
    client: httpx.Client, controller: ScriptedOpenAIServer
) -> None:
    controller.script({"tasks": [{"id": 0, "task": "text-to-image", "dep": [-1], "args": {"text": "a cat"}}]})
    reply = client.post("/tasks", json={"messages": user("draw a cat")})
    assert reply.status_code == 200
    assert reply.json() == [{"id": 0, "task": "text-to-image", "dep": [-1], "args": {"text": "a cat"}}]


def test_results_by_task_id_with_model_choice_and_inference_result(client: httpx.Client) -> None:
    reply = client.post("/results", json={"messages": user("go"), "plan": PLAN, "api_key": "ignored"})
    assert reply.status_code == 200
    results = reply.json()
    assert sorted(results) == ["0", "1", "2"]
    first = results["1"]
    assert first["task"] == PLAN[1]
    assert first["choose model result"] == {
        "id": "fake/text-to-speech-model",
        "reason": "the only available candidate",
    }
    assert first["inference result"]["generated audio"].startswith("/files/")
    assert "summarization" in first["inference result"]["generated text"]


def test_a_thread_keeps_the_history(client: httpx.Client, controller: ScriptedOpenAIServer) -> None:
    first = client.post("/hugginggpt", json={"messages": user("first turn"), "plan": PLAN[:1]})
    thread = first.headers["x-thread-id"]
    controller.script({"tasks": [PLAN[0]]}, "second answer")
    second = client.post("/hugginggpt", json={"messages": user("second turn"), "thread_id": thread})
    assert second.json()["message"].startswith("second answer")
    planner_prompt = " ".join(str(m.get("content")) for m in controller.bodies[-2]["messages"])
    assert "first turn" in planner_prompt and ANSWER in planner_prompt
    state = client.get(f"/threads/{thread}").json()
    assert [m["type"] for m in state["values"]["messages"]] == ["human", "ai", "human", "ai"]
    assert state["next"] == [] and state["waiting_for"] is None


def test_upload_then_name_the_file_in_a_request(client: httpx.Client) -> None:
    photo = io.BytesIO()
    Image.new("RGB", (16, 12), "green").save(photo, format="PNG")
    uploaded = client.post("/upload", files={"file": ("my photo.png", photo.getvalue(), "image/png")})
    assert uploaded.status_code == 200
    path = uploaded.json()["files"][0]["path"]
    assert path.startswith("uploads/") and path.endswith("my-photo.png")
    plan = [{"id": 0, "task": "image-classification", "dep": [-1], "args": {"image": path}}]
    results = client.post("/results", json={"messages": user(f"what is in {path}?"), "plan": plan}).json()
    assert "generated text" in results["0"]["inference result"], results


def test_files_outside_the_runs_cannot_be_read(client: httpx.Client, server: ServerProcess) -> None:
    for path in (
        "/files/../settings.yaml",
        "/files/..%2F..%2Fsettings.yaml/x",
        "/files/run/..",
        "/files/x/y.png",
    ):
        assert client.get(path).status_code == 404, path
    secret = server.home / "secret.png"
    Image.new("RGB", (4, 4)).save(secret)
    plan = [{"id": 0, "task": "image-classification", "dep": [-1], "args": {"image": str(secret)}}]
    results = client.post("/results", json={"messages": user("x"), "plan": plan}).json()
    assert "outside the inputs folder" in results["0"]["inference result"]["error"]
    plan[0]["args"]["image"] = "../secret.png"
    results = client.post("/results", json={"messages": user("x"), "plan": plan}).json()
    assert "outside the inputs folder" in results["0"]["inference result"]["error"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"not json", 422, "not valid JSON"),
        (b"{}", 422, "messages"),
        (b'{"messages": []}', 422, "at least 1"),
        (b'{"messages": "hello"}', 422, "messages"),
        (b'{"messages": [{"role": "robot", "content": "x"}]}', 422, "role"),
        (b'{"messages": [{"role": "user"}]}', 422, "content"),
        (b'{"messages": [{"role": "assistant", "content": "x"}]}', 422, "last message must be the user"),
        (b'{"messages": [{"role": "user", "content": "x"}], "thread_id": "../etc"}', 422, "thread_id"),
        (b"[1, 2]", 422, "body"),
    ],
)
def test_bad_requests_get_a_4xx_that_names_the_problem(
    client: httpx.Client, body: bytes, status: int, says: str
) -> None:
    reply = client.post("/hugginggpt", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == status, reply.text
    assert says in reply.json()["detail"]
    assert "Traceback" not in reply.text


def test_huge_bodies_and_uploads_are_refused(client: httpx.Client) -> None:
    huge = b'{"messages": [{"role": "user", "content": "' + b"x" * (2 * 1024 * 1024) + b'"}]}'
    reply = client.post("/hugginggpt", content=huge, headers={"content-type": "application/json"})
    assert reply.status_code == 413 and "limit" in reply.json()["detail"]
    refused = client.post("/upload", files={"file": ("tool.exe", b"MZ...", "application/octet-stream")})
    assert refused.status_code == 415 and "only images, audio and video" in refused.json()["detail"]


def test_unknown_and_finished_threads(client: httpx.Client) -> None:
    assert client.get("/threads/no-such-thread").status_code == 404
    assert client.post("/threads/no-such-thread/resume").status_code == 404
    done = client.post("/hugginggpt", json={"messages": user("go"), "plan": PLAN[:1]})
    thread = done.headers["x-thread-id"]
    reply = client.post(f"/threads/{thread}/resume")
    assert reply.status_code == 409 and "no unfinished run" in reply.json()["detail"]


def test_no_cors_headers_unless_configured(client: httpx.Client) -> None:
    reply = client.options(
        "/hugginggpt", headers={"Origin": "http://localhost:9999", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in reply.headers
