"""The routes of the original HuggingGPT server (microsoft/JARVIS), with its request and response shapes.

``POST /hugginggpt`` answers (``{"message": ...}``), ``POST /tasks`` returns the plan, ``POST /results`` the
results by task id. The body is ``{"messages": [{"role", "content"}, ...]}``, the last message being the
request; other fields the original client sends (``model``, ``api_key``, ...) are accepted and ignored.
Optional extras: ``thread_id`` (continue a durable thread; the reply's ``X-Thread-Id`` header names the
thread of every request) and ``plan`` (run a given plan).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field

from graph.respond import named_outputs
from graph.state import Selection, TaskResult
from hugginggpt.server.hub import Hub, checked_thread_id, hub_of, new_thread_id
from tools.artifacts import Workspace

router = APIRouter(tags=["HuggingGPT (JARVIS-compatible)"])

MAX_MESSAGES = 200


class ContentPart(BaseModel):
    """One part of an OpenAI-style message content: text, or an image URL."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None
    image_url: dict[str, Any] | str | None = None


class ChatMessage(BaseModel):
    """One chat message, OpenAI style."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant"]
    content: str | list[ContentPart]


class ChatRequest(BaseModel):
    """The body of the JARVIS routes."""

    model_config = ConfigDict(extra="allow")  # model, api_key, api_type, api_endpoint: accepted, not used
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    thread_id: str | None = Field(default=None, description="Continue this durable thread.")
    plan: list[dict[str, Any]] | None = Field(default=None, description="Run this plan instead of planning.")


def to_message(message: ChatMessage) -> BaseMessage:
    """Return a chat message as a LangChain message (image URL parts become text the planner can read)."""
    if isinstance(message.content, str):
        text = message.content
    else:
        pieces = []
        for part in message.content:
            url = part.image_url.get("url") if isinstance(part.image_url, dict) else part.image_url
            pieces.append(part.text or url or "")
        text = " ".join(piece for piece in pieces if piece)
    kinds = {"user": HumanMessage, "assistant": AIMessage, "system": SystemMessage}
    return kinds[message.role](text)


async def run_request(
    hub: Hub, body: ChatRequest, response: Response, stop_before: list[str]
) -> dict[str, Any]:
    """Run the request of a JARVIS body and return the final (or stopped) state.

    Raises:
        HTTPException: 422 when the last message is not the user's.
    """
    if body.messages[-1].role != "user":
        raise HTTPException(422, "messages: the last message must be the user's request (role 'user')")
    thread = checked_thread_id(body.thread_id) if body.thread_id else new_thread_id()
    messages = [to_message(message) for message in body.messages]
    if body.thread_id and await hub.thread_exists(thread):
        messages = messages[-1:]  # the thread holds the history already
    inputs: dict[str, Any] = {"messages": messages}
    if body.plan is not None:
        inputs["plan"] = body.plan
    response.headers["X-Thread-Id"] = thread
    state: dict[str, Any] = await hub.graph.ainvoke(
        inputs, hub.config(thread, "hugginggpt"), context=hub.context, interrupt_before=stop_before or None
    )
    return state


@router.post("/hugginggpt", summary="Answer a request: plan, select, execute, respond")
async def hugginggpt(body: ChatRequest, request: Request, response: Response) -> dict[str, Any]:
    """Return ``{"message": answer}`` (files named by their /files URL path)."""
    hub = hub_of(request)
    state = await run_request(hub, body, response, [])
    answer = state.get("answer")
    if not answer:
        thread = response.headers["X-Thread-Id"]
        answer = f"The plan waits for review: see GET /threads/{thread} and POST /threads/{thread}/resume."
    return {"message": answer, "thread_id": response.headers["X-Thread-Id"]}


@router.post("/tasks", summary="Plan a request: the task list, nothing run")
async def tasks(body: ChatRequest, request: Request, response: Response) -> Any:
    """Return the plan as JARVIS did (``dep: [-1]`` for none), or ``{"message": why}`` when there is none."""
    state = await run_request(hub_of(request), body, response, ["select", "respond"])
    if state.get("plan_error"):
        return {"message": f"I could not make a plan for this request: {state['plan_error']}"}
    return [{**task, "dep": task["dep"] or [-1]} for task in state.get("tasks", [])]


@router.post("/results", summary="Plan, select and run a request: the results by task id, no answer")
async def results(body: ChatRequest, request: Request, response: Response) -> dict[str, Any]:
    """Return ``{"<id>": {"task", "inference result", "choose model result"}}``."""
    hub = hub_of(request)
    state = await run_request(hub, body, response, ["respond"])
    if state.get("plan_error"):
        return {"message": f"I could not make a plan for this request: {state['plan_error']}"}
    names = Workspace.for_run(
        hub.context.workspace_dir, state.get("run_id", "run"), files_url=hub.context.files_url
    )
    selections = {selection["id"]: selection for selection in state.get("selections", [])}
    by_id = {result["id"]: result for result in state.get("results", [])}
    collected = {}
    for task in state.get("tasks", []):
        result = by_id.get(task["id"])
        collected[str(task["id"])] = {
            "task": {**task, "dep": task["dep"] or [-1]},
            "inference result": inference_result(result, names) if result else {"error": "not run"},
            "choose model result": choice(selections.get(task["id"])),
        }
    return collected


def inference_result(result: TaskResult, names: Workspace) -> dict[str, Any]:
    """Return a result in the original's words: ``generated <kind>`` and details, or ``error``."""
    if result["status"] != "done":
        return {"error": result["error"]}
    shown: dict[str, Any] = dict(result["outputs"].get("data") or {})
    named = named_outputs(result["outputs"], names.public_name)
    shown.update({f"generated {kind}": value for kind, value in named.items()})
    return shown


def choice(selection: Selection | None) -> dict[str, Any] | str:
    """Return the model choice as the original did (``""`` when no model was chosen)."""
    if not selection or not selection["model"]:
        return ""
    return {"id": selection["model"], "reason": selection["reason"]}
