"""LangSmith tracing of a served run, against a loopback server standing in for the LangSmith API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.integration.openai_server import ScriptedOpenAIServer
from tests.integration.servers import fake_settings, server_env, start_serve, wait_for

pytestmark = pytest.mark.slow

# The whole batch config or none: a partial one kills the client's tracing thread (see the serving notes).
INFO = {
    "version": "0.0.0-recorder",
    "batch_ingest_config": {
        "use_multipart_endpoint": False,
        "size_limit": 100,
        "size_limit_bytes": 20 * 1024 * 1024,
        "scale_up_qsize_trigger": 1000,
        "scale_up_nthreads_limit": 16,
        "scale_down_nempty_trigger": 4,
    },
}
PLAN = [
    {"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "a text"}},
    {"id": 1, "task": "text-to-speech", "dep": [0], "args": {"text": "<GENERATED>-0"}},
    {"id": 2, "task": "text-to-image", "dep": [-1], "args": {"text": "a fox"}},
]


class Recorder:
    """Answers the LangSmith ingest API and keeps every run it is sent, merged by id."""

    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, run: dict[str, Any]) -> None:
        with self.lock:
            self.runs.setdefault(str(run["id"]), {}).update(run)

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(run) for run in self.runs.values()]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self._json(INFO if self.path.startswith("/info") else {})

            def do_POST(self) -> None:  # noqa: N802
                body = self._body()
                if self.path.startswith("/runs/batch"):
                    for run in body.get("post", []) + body.get("patch", []):
                        recorder.add(run)
                elif self.path.rstrip("/") == "/runs":
                    recorder.add(body)
                self._json({})

            def do_PATCH(self) -> None:  # noqa: N802
                recorder.add({"id": self.path.rstrip("/").rsplit("/", 1)[-1], **self._body()})
                self._json({})

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def _json(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    yield recording
    recording.httpd.shutdown()


def test_a_served_run_is_traced_with_its_stages_and_one_tool_run_per_task(
    tmp_path, recorder: Recorder
) -> None:
    with ScriptedOpenAIServer(default="Traced answer.") as controller:
        tracing = {
            "LANGSMITH_TRACING": "true",
            "LANGSMITH_ENDPOINT": recorder.url,
            "LANGSMITH_API_KEY": "fake",
        }
        server = start_serve(fake_settings(tmp_path), server_env(controller.url, **tracing))
        try:
            body = {"messages": [{"role": "user", "content": "go"}], "plan": PLAN}
            reply = httpx.post(f"{server.url}/hugginggpt", json=body, timeout=30)
            assert reply.status_code == 200

            def finished() -> bool:
                runs = recorder.snapshot()
                return any(r.get("name") == "hugginggpt" and r.get("end_time") for r in runs)

            wait_for(finished, 30, "the traced run to reach the recorder")
        finally:
            server.stop()
    runs = recorder.snapshot()
    root = next(run for run in runs if run.get("name") == "hugginggpt" and not run.get("parent_run_id"))
    in_trace = [run for run in runs if str(run.get("trace_id")) == str(root["id"])]
    stages = {run["name"] for run in in_trace if str(run.get("parent_run_id")) == str(root["id"])}
    assert {"plan", "select", "execute", "respond"} <= stages and "review" not in stages
    tools = sorted(run["name"] for run in in_trace if run.get("run_type") == "tool")
    assert tools == ["summarization", "text-to-image", "text-to-speech"]
    assert sum(run["name"] == "run_task" for run in in_trace) == 3
    llm_calls = [run for run in in_trace if run.get("run_type") == "llm"]
    assert len(llm_calls) == 1  # a given plan and single candidates: only the answer needs the controller
