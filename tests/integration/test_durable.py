"""Durable threads: SIGKILL `hugginggpt serve` in the middle of a run, restart it, resume the thread.

The finished tasks must not run again, nothing may wait on state that died with the process, and the
results must equal those of a run that was never interrupted. On SQLite, and on a real PostgreSQL.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.state import TaskResult
from tests.integration.openai_server import ScriptedOpenAIServer
from tests.integration.postgres import postgres_url  # noqa: F401  (fixture)
from tests.integration.servers import fake_settings, server_env, start_serve, wait_for

pytestmark = pytest.mark.slow

SLOW_S = 4.0
FILE = re.compile(r"/\S+?\.(?:png|wav)")
PLAN = [
    {"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "alpha"}},
    {"id": 1, "task": "translation", "dep": [0], "args": {"text": "<GENERATED>-0"}},
    {"id": 2, "task": "text-to-image", "dep": [-1], "args": {"text": "a fox"}},
    {"id": 3, "task": "image-classification", "dep": [2], "args": {"image": "<GENERATED>-2"}},
    {"id": 4, "task": "summarization", "dep": [1, 3], "args": {"text": "<GENERATED>-1 and <GENERATED>-3"}},
]


def _settings(tmp: Path, threads: str) -> Path:
    log = str(tmp / "calls.log")
    cards = [
        {"id": f"logged/{task}", "task": task, "options": {"log": log}}
        for task in ("summarization", "translation", "image-classification")
    ]
    cards.append(
        {"id": "logged/slow-image", "task": "text-to-image", "options": {"log": log, "sleep": SLOW_S}}
    )
    return fake_settings(tmp, cards, threads=threads)


def _calls(tmp: Path) -> list[str]:
    path = tmp / "calls.log"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _without_files(text: str | None) -> str | None:
    return FILE.sub("<file>", text) if text else text  # file names are random by design


def _comparable(results: list[TaskResult]) -> list[tuple[Any, ...]]:
    return [(r["id"], r["status"], r["model"], _without_files(r["outputs"].get("text"))) for r in results]


def _request(url: str, thread: str) -> dict[str, Any]:
    body = {"messages": [{"role": "user", "content": "go"}], "plan": PLAN, "thread_id": thread}
    reply = httpx.post(f"{url}/hugginggpt", json=body, timeout=60)
    reply.raise_for_status()
    return reply.json()


@pytest.fixture
def controller_for_kill() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer(default="Resumed answer.") as server:
        yield server


def kill_and_resume(tmp: Path, threads: str, controller: ScriptedOpenAIServer) -> None:
    settings, env = _settings(tmp, threads), server_env(controller.url)
    first = start_serve(settings, env)
    # The request dies with the server; its client sees a dropped connection.
    threading.Thread(target=lambda: _swallow(_request, first.url, "killed-thread"), daemon=True).start()
    wait_for(
        lambda: "done task1-translation" in _calls(tmp) and "start task2-text-to-image" in _calls(tmp),
        30,
        "tasks 0 and 1 to finish while task 2 runs",
    )
    time.sleep(0.3)  # let the finished tasks' writes reach the store, as they would in any real crash window
    first.kill()
    before = _calls(tmp)
    assert not any("task3" in line or "task4" in line for line in before), before

    second = start_serve(settings, env)
    try:
        with httpx.Client(base_url=second.url, timeout=60) as client:
            state = client.get("/threads/killed-thread").json()
            assert state["next"] == ["execute"] and state["waiting_for"] is None
            started = time.perf_counter()
            resumed = client.post("/threads/killed-thread/resume")
            took = time.perf_counter() - started
            assert resumed.status_code == 200, resumed.text
            final = resumed.json()
            after = _calls(tmp)[len(before) :]
            assert not any("task0" in line or "task1" in line for line in after), after  # not run again
            assert after[0] == "start task2-text-to-image"  # the cut-off task starts at once on resume
            assert took < SLOW_S + 2.5, f"resume took {took:.1f}s for one {SLOW_S}s task"
            assert final["answer"].startswith("Resumed answer.")
            uninterrupted = client.post(
                "/results", json={"messages": [{"role": "user", "content": "go"}], "plan": PLAN}
            ).json()
        expected = [
            (
                int(key),
                "done",
                value["choose model result"]["id"],
                _without_files(value["inference result"]["generated text"]),
            )
            for key, value in sorted(uninterrupted.items())
        ]
        assert _comparable(final["results"]) == expected
    finally:
        second.stop()
    for log in (first.output(), second.output()):  # plain state: nothing to register for the checkpoint
        assert "unregistered type" not in log and "Traceback" not in log, log[-3000:]


def _swallow(function: Any, *args: Any) -> None:
    try:
        function(*args)
    except httpx.HTTPError:
        pass


def test_sigkill_mid_run_loses_nothing_on_sqlite(
    tmp_path: Path, controller_for_kill: ScriptedOpenAIServer
) -> None:
    kill_and_resume(tmp_path, str(tmp_path / "threads.sqlite"), controller_for_kill)


def test_sigkill_mid_run_loses_nothing_on_postgres(
    tmp_path: Path,
    controller_for_kill: ScriptedOpenAIServer,
    postgres_url: str,  # noqa: F811
) -> None:
    kill_and_resume(tmp_path, postgres_url, controller_for_kill)
