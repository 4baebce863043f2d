"""Durable threads over HTTP: read a thread's state; resume a run that was cut off or waits for review."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from langgraph.types import Command
from pydantic import BaseModel, Field

from hugginggpt.render import to_jsonable
from hugginggpt.server.hub import Hub, checked_thread_id, hub_of
from hugginggpt.threads import waiting_for

router = APIRouter(prefix="/threads", tags=["threads"])


class ResumeRequest(BaseModel):
    """How to resume: nothing (finish a run that was cut off), or the answer to a plan review."""

    resume: Any = Field(
        default=None,
        description='The review answer: "approve", {"action": "edit", "plan": [...]}, or a rejection.',
    )


async def _snapshot(hub: Hub, thread_id: str) -> Any:
    snapshot = await hub.snapshot(checked_thread_id(thread_id))
    if snapshot is None:
        raise HTTPException(404, f"unknown thread {thread_id!r}")
    return snapshot


@router.get("/{thread_id}", summary="A thread's state: messages, plan, results, and what it waits for")
async def thread_state(thread_id: str, request: Request) -> dict[str, Any]:
    """Return the thread's latest state; ``next`` is non-empty when a run stopped before the end."""
    snapshot = await _snapshot(hub_of(request), thread_id)
    return {
        "thread_id": thread_id,
        "next": list(snapshot.next),
        "waiting_for": to_jsonable(waiting_for(snapshot)),
        "values": to_jsonable(snapshot.values),
    }


@router.post("/{thread_id}/resume", summary="Finish a thread's interrupted run (after a crash, or a review)")
async def resume(thread_id: str, request: Request, body: ResumeRequest | None = None) -> dict[str, Any]:
    """Resume the run: finished tasks are not run again. Returns the final state."""
    hub = hub_of(request)
    snapshot = await _snapshot(hub, thread_id)
    if not snapshot.next:
        raise HTTPException(409, f"thread {thread_id!r} has no unfinished run to resume")
    waiting = waiting_for(snapshot)
    answer = body.resume if body else None
    if waiting is not None and answer is None:
        raise HTTPException(
            422, "this run waits for a plan review: send {'resume': 'approve'} (or edit/reject)"
        )
    command: Command[Any] | None = Command(resume=answer) if waiting is not None else None
    state = await hub.graph.ainvoke(command, hub.config(thread_id, "hugginggpt-resume"), context=hub.context)
    return {"thread_id": thread_id, **to_jsonable(state)}
