"""A loopback HTTP server that speaks the Hugging Face Inference API, for tests of the remote backend.

It answers the routes ``InferenceClient`` calls:

- the router, provider ``hf-inference``: ``POST /hf-inference/models/<org>/<task>`` (most tasks),
  ``.../pipeline/sentence-similarity`` and ``.../v1/chat/completions``;
- an endpoint URL (dedicated Inference Endpoint or TGI): ``POST /endpoint/<task>`` and
  ``/endpoint/<task>/v1/chat/completions``;
- provider ``novita`` (the only text-to-video route here): ``POST /novita/v3/hf/<org>/<task>``, whose answer
  names a video URL that ``GET /files/video.mp4`` serves;
- the Hub's model metadata, which the client reads to check a model's task and find its providers:
  ``GET /api/models/<org>/<task>``.

Models are named after the registry task they serve (``test/summarization``), and get that task's canned
answer (`tests.integration.hf_inference_payloads`). Every request is recorded, and a model can be scripted
to answer a sequence of statuses first (503 with ``estimated_time``, 429 with ``Retry-After``, 401 ...).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.integration.hf_inference_payloads import MP4_BYTES, PIPELINE_TAGS, answer_for

logger = logging.getLogger(__name__)

VIDEO_PATH = "/files/video.mp4"
"""Where the provider ``novita`` route's answer says the generated video is."""

_ROUTE_SUFFIXES = ("/v1/chat/completions", "/pipeline/sentence-similarity", "/pipeline/feature-extraction")


@dataclass(frozen=True)
class Reply:
    """A scripted answer.

    Attributes:
        status: the HTTP status.
        body: the JSON body (e.g. ``{"error": "...", "estimated_time": 2}``).
        headers: extra headers (e.g. ``{"Retry-After": "0.1"}``).
        delay_s: how long to wait before answering (to make the client time out).
        canned: answer the task's canned payload (with this status) instead of ``body``.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    canned: bool = False


@dataclass(frozen=True)
class Recorded:
    """One request the server received.

    Attributes:
        method: ``GET`` or ``POST``.
        path: the URL path.
        model: the model part of the path (``test/summarization``, ``endpoint/summarization``).
        headers: the request headers, names lower-cased.
        body: the raw body.
    """

    method: str
    path: str
    model: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """Return the body parsed as JSON, or None when it is not JSON (e.g. raw image bytes)."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None


class InferenceServer:
    """The server's state: recorded requests and scripted replies (thread-safe)."""

    def __init__(self) -> None:
        self.base_url = ""
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._scripts: dict[str, deque[Reply]] = {}
        self._forever: dict[str, Reply] = {}

    @property
    def requests(self) -> list[Recorded]:
        """Return the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def inference_requests(self, model: str | None = None) -> list[Recorded]:
        """Return the POSTs (inference calls) received, for one model part when given."""
        return [r for r in self.requests if r.method == "POST" and (model is None or r.model == model)]

    def endpoint_url(self, task: str) -> str:
        """Return the URL of a dedicated endpoint that serves ``task``."""
        return f"{self.base_url}/endpoint/{task}"

    def script(self, model: str, *replies: Reply, forever: bool = False) -> None:
        """Make ``model`` answer ``replies`` first (the last one for ever when ``forever``), then canned 200s.

        Args:
            model: the model part of the path (``test/text-classification`` or ``endpoint/<task>``).
            replies: the answers, in order.
            forever: repeat the last reply instead of returning to canned answers.
        """
        with self._lock:
            self._scripts[model] = deque(replies[:-1] if forever else replies)
            if forever and replies:
                self._forever[model] = replies[-1]

    def next_reply(self, model: str) -> Reply:
        """Return (and consume) the scripted reply for ``model``, or a canned 200."""
        with self._lock:
            queue = self._scripts.get(model)
            if queue:
                return queue.popleft()
            return self._forever.get(model, Reply(canned=True))

    def record(self, request: Recorded) -> None:
        """Keep a received request."""
        with self._lock:
            self._requests.append(request)


def split_path(path: str) -> tuple[str, str]:
    """Return ``(kind, model part)`` of a request path; kind is ``hub``, ``inference`` or ``unknown``."""
    if path.startswith("/api/models/"):
        return "hub", path[len("/api/models/") :]
    for prefix in ("/hf-inference/models/", "/endpoint/", "/novita/v3/hf/"):
        if path.startswith(prefix):
            rest = path[len(prefix) :]
            for suffix in _ROUTE_SUFFIXES:
                rest = rest.removesuffix(suffix)
            return "inference", ("endpoint/" + rest if prefix == "/endpoint/" else rest)
    return "unknown", path


def _handler(state: InferenceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            logger.debug("loopback inference server: " + format, *args)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            kind, model = split_path(path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            state.record(Recorded(method, path, model, headers, body))
            if kind == "hub":
                self._hub(model)
            elif path == VIDEO_PATH:
                self._send(200, "video/mp4", MP4_BYTES)
            elif path.startswith("/novita/") and method == "POST":
                self._novita(model)
            elif kind == "inference" and method == "POST":
                self._inference(model, body)
            else:
                self._send(404, "application/json", b'{"error": "no such route"}')

        def _hub(self, model: str) -> None:
            task = model.rsplit("/", 1)[-1]
            tag = PIPELINE_TAGS.get(task, task)
            mapping = {"novita": {"status": "live", "providerId": model, "task": tag}}
            info = {"id": model, "pipeline_tag": tag, "tags": [tag], "inferenceProviderMapping": mapping}
            self._send(200, "application/json", json.dumps(info).encode())

        def _novita(self, model: str) -> None:
            reply = state.next_reply(model)
            if not reply.canned:
                self._send(reply.status, "application/json", json.dumps(reply.body).encode(), reply.headers)
                return
            answer = {"video": {"video_url": state.base_url + VIDEO_PATH}}
            self._send(200, "application/json", json.dumps(answer).encode())

        def _inference(self, model: str, body: bytes) -> None:
            reply = state.next_reply(model)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            if not reply.canned:
                self._send(reply.status, "application/json", json.dumps(reply.body).encode(), reply.headers)
                return
            try:
                request = json.loads(body) if body else None
            except (ValueError, UnicodeDecodeError):
                request = None  # raw image or audio bytes
            try:
                content_type, payload = answer_for(model.rsplit("/", 1)[-1], request)
            except KeyError:
                self._send(404, "application/json", b'{"error": "Model not found"}')
                return
            self._send(reply.status, content_type, payload, reply.headers)

        def _send(
            self, status: int, content_type: str, payload: bytes, headers: dict[str, str] | None = None
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                logger.debug("client closed the connection before the answer")

    return Handler


@contextmanager
def running_server() -> Iterator[InferenceServer]:
    """Run the server on 127.0.0.1 (a free port) in a thread, for the duration of the block.

    Yields:
        The server's state; ``base_url`` is ``http://127.0.0.1:<port>``.
    """
    state = InferenceServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.05,), name="hf-inference-server", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
