"""The graph as a LangServe endpoint: invoke, batch, stream, stream_events, playground and schemas at /graph.

Three things LangServe does not do for a LangGraph graph, done here (see the project's serving notes):
chat messages written as ``{"role", "content"}`` dicts are accepted (LangServe alone answers 500); the
thread comes from the ``X-Thread-Id`` header (LangServe strips ``configurable.thread_id``; without the
header every call gets a new thread); and ``{"resume": answer}`` resumes a run stopped for plan review
(LangServe would coerce it into a new request). Objects JSON cannot hold are sent as their ``repr``.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, HTTPException, Request
from langchain_core.messages import convert_to_messages
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langgraph.types import Command, Interrupt, Send
from langserve import add_routes
from langserve.serialization import WellKnownLCSerializer
from pydantic import BaseModel, Field

from hugginggpt.server.hub import Hub, checked_thread_id, new_thread_id

PATH = "/graph"
THREAD_HEADER = "x-thread-id"


class GraphRequest(BaseModel):
    """A request: the chat (the last human message is the request) and an optional plan; or a resume."""

    messages: list[dict[str, Any]] = Field(
        default_factory=list,
        description='Chat messages: {"role": "user", "content": "..."} or LangChain messages.',
    )
    plan: list[dict[str, Any]] | None = Field(default=None, description="A plan to run instead of planning.")
    resume: Any = Field(default=None, description="The answer to a plan review; resumes the thread's run.")


class GraphSerializer(WellKnownLCSerializer):
    """LangServe's serializer, plus `Send` and `Interrupt`, int keys, and ``repr`` for anything else.

    Events carry the inputs of every step, some of which hold live objects (the services, futures):
    those are sent as their ``repr``, never walked into.
    """

    def dumps(self, obj: Any) -> bytes:
        """Dump ``obj`` as JSON bytes."""
        options = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS
        return orjson.dumps(obj, default=_fallback, option=options)


def _fallback(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, Interrupt):
        return {"value": value.value, "id": value.id}
    if isinstance(value, Send):
        return {"send": value.node, "arg": value.arg}
    return repr(value)


def runnable(hub: Hub) -> Runnable[Any, Any]:
    """Return the graph behind an adapter that turns a `GraphRequest` into graph input or a resume."""

    async def to_graph_input(request: dict[str, Any], config: RunnableConfig) -> Any:
        thread = config.get("configurable", {}).get("thread_id", "")
        if request.get("resume") is not None:
            if not thread:
                raise HTTPException(422, "resume: name the thread in the X-Thread-Id header")
            if not await hub.thread_exists(thread):
                raise HTTPException(404, f"unknown thread {thread!r}: nothing to resume")
            return Command(resume=request["resume"])
        try:
            messages = convert_to_messages(request.get("messages") or [])
        except (ValueError, TypeError, KeyError) as error:
            raise HTTPException(422, f"messages: {error}") from error
        inputs: dict[str, Any] = {"messages": messages}
        if request.get("plan") is not None:
            inputs["plan"] = request["plan"]
        return inputs

    def in_its_thread(graph_input: Any, config: RunnableConfig) -> Any:  # a Runnable: LangChain runs it
        # Chosen per run, not per HTTP request: each input of a batch gets a thread of its own.
        if config.get("configurable", {}).get("thread_id"):
            return hub.graph
        return hub.graph.with_config(configurable={"thread_id": new_thread_id()})

    chain = RunnableLambda(to_graph_input, name="request") | RunnableLambda(in_its_thread, name="thread")
    return chain.with_types(input_type=GraphRequest, output_type=dict)


def thread_config(config: dict[str, Any], request: Request) -> dict[str, Any]:
    """Put the thread the ``X-Thread-Id`` header names into the run's config (without it, a new thread a run).

    Raises:
        HTTPException: 422 for a batch with the header: its runs would share, and race on, one thread.
    """
    header = request.headers.get(THREAD_HEADER)
    if not header:
        return config
    if request.url.path.endswith("/batch"):
        raise HTTPException(422, "X-Thread-Id: a batch runs each input in a thread of its own; use invoke")
    configurable = {**config.get("configurable", {}), "thread_id": checked_thread_id(header)}
    return {**config, "configurable": configurable}


def add_graph_routes(app: FastAPI, hub: Hub) -> None:
    """Serve the graph with LangServe at `PATH`."""
    add_routes(
        app,
        runnable(hub),
        path=PATH,
        per_req_config_modifier=thread_config,
        serializer=GraphSerializer(),
        enable_feedback_endpoint=False,
        enable_public_trace_link_endpoint=False,
    )
