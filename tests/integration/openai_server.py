"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, and the `openai_server` fixture."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import BaseModel

logger = logging.getLogger(__name__)


@dataclass
class ToolCall:
    """A scripted tool call; ``name=None`` calls the tool the request forces, or else its first tool."""

    arguments: dict[str, Any]
    name: str | None = None


@dataclass
class Failure:
    """A scripted HTTP error (4xx answers are not retried by the openai client; 5xx are)."""

    status: int = 400
    message: str = "scripted failure"


# str: assistant text. dict / list / BaseModel: JSON, sent as a tool call when the request has `tools`,
# else as the message content (what `response_format` requests expect).
Reply = str | dict[str, Any] | list[Any] | BaseModel | ToolCall | Failure


@dataclass
class RecordedRequest:
    """One request the server received (header names lower-cased)."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Answer:
    """What one chat completion returns: text, or tool calls."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"


class ScriptedOpenAIServer:
    """Answers ``POST .../chat/completions`` from a queue of replies and records every request.

    Use it as a context manager (or ``start``/``stop``); ``url`` is the ``base_url`` for an OpenAI client.
    """

    def __init__(
        self,
        replies: tuple[Reply, ...] = (),
        default: Reply | None = None,
        rejects: frozenset[str] = frozenset(),
    ) -> None:
        self.replies: deque[Reply] = deque(replies)
        self.default = default
        self.rejects = rejects
        """``response_format`` types refused: ``json_schema`` as llama-cpp-python's server does (HTTP 500)."""
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="openai-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:40123/v1``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies received so far, oldest first."""
        return [request.body for request in self.requests]

    def script(self, *replies: Reply) -> None:
        """Queue replies, answered in order, one per chat completion request."""
        with self._lock:
            self.replies.extend(replies)

    def start(self) -> ScriptedOpenAIServer:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def record(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Reply | None:
        """Record a request and pop the reply for it (the default, maybe None, when the script is used up)."""
        with self._lock:
            self.requests.append(RecordedRequest(path, headers, body))
            return self.replies.popleft() if self.replies else self.default

    def next_id(self) -> str:
        """Return a fresh completion id."""
        return f"chatcmpl-{next(self._ids)}"


def answer_for(reply: Reply, body: dict[str, Any]) -> Answer:
    """Turn a scripted reply into the answer to ``body``, as a tool call when the request sent tools."""
    if isinstance(reply, str):
        return Answer(content=reply)
    if isinstance(reply, ToolCall):
        return Answer(tool_calls=[_tool_call(reply.name or _forced_tool(body), reply.arguments)])
    data = reply.model_dump(mode="json") if isinstance(reply, BaseModel) else reply
    if body.get("tools") and isinstance(data, dict):
        return Answer(tool_calls=[_tool_call(_forced_tool(body), data)])
    return Answer(content=json.dumps(data))


def _forced_tool(body: dict[str, Any]) -> str:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return str(choice["function"]["name"])
    tools = body.get("tools") or []
    if not tools:
        raise ValueError("a ToolCall reply without a name needs a request that sends tools")
    return str(tools[0]["function"]["name"])


def _tool_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"call_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def _usage(body: dict[str, Any], answer: Answer) -> dict[str, int]:
    """Count words as tokens: deterministic, and good enough to check that usage is reported."""
    prompt = sum(len(str(message.get("content") or "").split()) for message in body.get("messages", []))
    completion = len((answer.content or "").split()) + sum(
        len(call["function"]["arguments"].split()) for call in answer.tool_calls
    )
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(server: ScriptedOpenAIServer, body: dict[str, Any], answer: Answer) -> dict[str, Any]:
    """Build a non-streaming ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": answer.content, "refusal": None}
    if answer.tool_calls:
        message["tool_calls"] = answer.tool_calls
    return {
        "id": server.next_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [
            {"index": 0, "message": message, "finish_reason": answer.finish_reason, "logprobs": None}
        ],
        "usage": _usage(body, answer),
    }


def chunks(server: ScriptedOpenAIServer, body: dict[str, Any], answer: Answer) -> Iterator[dict[str, Any]]:
    """Build the ``chat.completion.chunk`` objects of a streamed answer (usage last when asked for)."""
    base = {
        "id": server.next_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
    }

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

    yield chunk({"role": "assistant", "content": ""})
    for piece in _pieces(answer.content or ""):
        yield chunk({"content": piece})
    for index, call in enumerate(answer.tool_calls):
        head = {"index": index, "id": call["id"], "type": "function"}
        yield chunk(
            {"tool_calls": [{**head, "function": {"name": call["function"]["name"], "arguments": ""}}]}
        )
        for piece in _pieces(call["function"]["arguments"]):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, answer.finish_reason)
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": _usage(body, answer)}


def _pieces(text: str) -> list[str]:
    """Split text into word-sized pieces that join back to it exactly."""
    words = text.split(" ")
    return [word + " " for word in words[:-1]] + [words[-1]] if text else []


def refusal(response_format: str) -> tuple[int, dict[str, Any]]:
    """Return the status and body with which a server refuses ``response_format`` (as real ones word it)."""
    if response_format == "json_schema":  # llama-cpp-python's server: a pydantic error, HTTP 500
        message = (
            "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n"
            "  Input should be 'text' or 'json_object' [type=literal_error, input_value='json_schema']"
        )
        return 500, {"error": {"message": message, "type": "internal_server_error"}}
    return 400, {
        "error": {"message": f"response_format {response_format!r} is not supported", "type": "invalid"}
    }


def _handler_for(server: ScriptedOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the name http.server dispatches to)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            refused = (body.get("response_format") or {}).get("type")
            if refused in server.rejects:
                server.requests.append(RecordedRequest(self.path, dict(self.headers), body))
                self._json(*refusal(refused))
                return
            reply = server.record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            if reply is None:
                self._json(400, {"error": {"message": "the test script has no reply left", "type": "script"}})
            elif isinstance(reply, Failure):
                self._json(reply.status, {"error": {"message": reply.message, "type": "scripted"}})
            elif body.get("stream"):
                self._stream(chunks(server, body, answer_for(reply, body)))
            else:
                self._json(200, completion(server, body, answer_for(reply, body)))

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, events: Iterator[dict[str, Any]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()  # HTTP/1.0: the stream ends when the connection closes
            for event in events:
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
            logger.debug("openai_server: " + format, *args)

    return Handler


@pytest.fixture
def openai_server() -> Iterator[ScriptedOpenAIServer]:
    """Yield a started scripted server on a free loopback port; queue replies with ``server.script(...)``."""
    with ScriptedOpenAIServer() as server:
        yield server
