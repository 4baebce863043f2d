"""The `hugginggpt` command end to end: real tiny models, and ChatOpenAI over HTTP to a scripted server."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

from hugginggpt import cli
from tests.integration.openai_server import ScriptedOpenAIServer

pytestmark = pytest.mark.slow

REQUEST = "Draw a cat, say what is in the picture and find its objects, read the label aloud, then sum it up."
FIVE_TASKS = [
    {"id": 0, "task": "text-to-image", "dep": [-1], "args": {"text": "a cat on a sofa"}},
    {"id": 1, "task": "image-classification", "dep": [0], "args": {"image": "<GENERATED>-0"}},
    {"id": 2, "task": "object-detection", "dep": [0], "args": {"image": "<GENERATED>-0"}},
    {"id": 3, "task": "text-to-speech", "dep": [1], "args": {"text": "<GENERATED>-1"}},
    {"id": 4, "task": "summarization", "dep": [1, 2], "args": {"text": "<GENERATED>-1. <GENERATED>-2"}},
]


@pytest.fixture
def settings(tmp_path, tiny_catalog, openai_server: ScriptedOpenAIServer, monkeypatch) -> Path:
    """A config file: the scripted server as controller, the tiny models as the only catalog."""
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("HUGGINGGPT_CONTROLLER", raising=False)
    config = {
        "controller": "openai/scripted-model",
        "catalogs": [str(tiny_catalog)],
        "workspace_dir": str(tmp_path / "workspace"),
        "inputs_dir": str(tmp_path),
        "device": "cpu",
    }
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_given_five_task_plan_runs_on_tiny_models_and_prints_the_state(
    settings, tmp_path, openai_server, capsys
):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(FIVE_TASKS), encoding="utf-8")
    openai_server.script("Here is your cat, what it shows, and a spoken label.")
    status, out, _ = run_cli(capsys, "--config", str(settings), "run", "--plan", str(plan), "--json", REQUEST)
    assert status == 0
    state = json.loads(out)
    results = {result["id"]: result for result in state["results"]}
    assert [results[i]["status"] for i in range(5)] == ["done"] * 5, state["results"]
    image, audio, boxed = (
        results[0]["outputs"]["image"],
        results[3]["outputs"]["audio"],
        results[2]["outputs"]["image"],
    )
    for path in (image, audio, boxed):
        assert Path(path).is_file() and Path(path).is_relative_to(tmp_path / "workspace")
    assert Image.open(image).size == (64, 64) and Path(audio).read_bytes()[:4] == b"RIFF"
    assert results[1]["args"]["image"] == image  # <GENERATED>-0 resolved to the produced file
    assert results[1]["outputs"]["text"] in results[4]["args"]["text"]
    assert state["plan_attempts"] == 0 and len(openai_server.bodies) == 1  # only the answer call
    assert state["answer"].startswith("Here is your cat") and audio in state["answer"]


def test_request_planned_and_answered_over_http_by_configuration_only(
    settings, tmp_path, openai_server, capsys
):
    Image.new("RGB", (40, 30), "orange").save(tmp_path / "fox.png")
    openai_server.script(
        {
            "tasks": [
                {"id": 0, "task": "image-to-text", "dep": [-1], "args": {"image": "fox.png"}},
                {
                    "id": 1,
                    "task": "translation",
                    "dep": [-1],
                    "args": {"text": "a fox", "target": "French"},
                },
            ]
        },
        {"choices": [{"task_id": 0, "model": "tiny/vit-gpt2-image-to-text", "reason": "fast captions"}]},
        "The picture was captioned; the words were translated.",
    )
    status, out, _ = run_cli(
        capsys, "--config", str(settings), "run", "Caption fox.png; say 'a fox' in French."
    )
    assert status == 0
    assert "[plan] 2 task(s)" in out and "image-to-text" in out and "translation" in out
    assert "tiny/vit-gpt2-image-to-text (controller: fast captions)" in out
    assert "[execute] task 1 translation done" in out
    assert "The picture was captioned; the words were translated." in out
    plan_body, select_body, answer_body = openai_server.bodies
    assert plan_body["response_format"]["type"] == "json_schema"  # structured output, not text parsing
    assert "fox.png" in plan_body["messages"][-1]["content"]
    assert select_body["response_format"]["json_schema"]["name"] == "ModelChoices"
    assert "response_format" not in answer_body


def test_chat_keeps_the_history_between_requests(settings, tmp_path, openai_server, capsys, monkeypatch):
    def plan(text: str) -> dict:
        return {"tasks": [{"id": 0, "task": "summarization", "dep": [-1], "args": {"text": text}}]}

    openai_server.script(plan("first text"), "First answer.", plan("second text"), "Second answer.")
    monkeypatch.setattr(sys, "stdin", io.StringIO("Summarize the first text\nNow the second one\n"))
    status, out, _ = run_cli(capsys, "--config", str(settings), "chat")
    assert status == 0
    assert "First answer." in out and "Second answer." in out
    second_plan = openai_server.bodies[2]["messages"]
    contents = [message["content"] for message in second_plan]
    assert any("Summarize the first text" in c for c in contents)
    assert any(c.startswith("First answer.") for c in contents)


def test_a_chat_thread_survives_the_process_and_plan_review_asks_first(
    settings, tmp_path, openai_server, capsys, monkeypatch
):
    def plan(text: str) -> dict:
        return {"tasks": [{"id": 0, "task": "summarization", "dep": [-1], "args": {"text": text}}]}

    openai_server.script(plan("first text"), "First answer.")
    monkeypatch.setattr(sys, "stdin", io.StringIO("Summarize the first text\n"))
    status, out, _ = run_cli(capsys, "--config", str(settings), "chat")
    assert status == 0 and (tmp_path / "workspace" / "threads.sqlite").is_file()
    thread = out.split("hugginggpt chat --thread ", 1)[1].split()[0]
    # A new process continues the thread; with --review it asks before running the plan.
    openai_server.script(plan("second text"), "Second answer.")
    monkeypatch.setattr(sys, "stdin", io.StringIO("Now the second one\napprove\n"))
    status, out, _ = run_cli(capsys, "--config", str(settings), "chat", "--thread", thread, "--review")
    assert status == 0 and '"question": "Run this plan?"' in out and "Second answer." in out
    contents = [message["content"] for message in openai_server.bodies[2]["messages"]]
    assert any("Summarize the first text" in c for c in contents)
    assert any(c.startswith("First answer.") for c in contents)


def test_bad_plan_file_is_a_usage_error(settings, tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text("{not json", encoding="utf-8")
    status, _, err = run_cli(capsys, "--config", str(settings), "run", "--plan", str(plan), "x")
    assert status == 2 and "is not JSON" in err


def test_unknown_setting_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "settings.yaml"
    path.write_text("top_kk: 3\n", encoding="utf-8")
    status, _, err = run_cli(capsys, "--config", str(path), "run", "x")
    assert status == 2 and "unknown setting(s) top_kk" in err
