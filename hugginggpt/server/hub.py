"""What every route shares: the compiled graph (with the threads' store), its settings, its services."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

from graph.context import Context
from graph.services import Services
from hugginggpt.settings import ServeSettings

_THREAD_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
RECURSION_LIMIT = 100


@dataclass(frozen=True)
class Hub:
    """The server's shared objects.

    Attributes:
        graph: the compiled graph, with the threads' checkpointer.
        context: the settings every run gets (files named by URL under /files).
        settings: how the server listens and what it accepts.
        services: the services the runs share (closed when the server stops).
    """

    graph: Any
    context: Context
    settings: ServeSettings
    services: Services

    def config(self, thread_id: str, run_name: str) -> dict[str, Any]:
        """Return the LangGraph config of a run in ``thread_id``."""
        return {
            "configurable": {"thread_id": thread_id},
            "run_name": run_name,
            "recursion_limit": RECURSION_LIMIT,
        }

    async def snapshot(self, thread_id: str) -> Any:
        """Return the latest `StateSnapshot` of ``thread_id``, or None when there is no such thread."""
        snapshot = await self.graph.aget_state({"configurable": {"thread_id": thread_id}})
        return snapshot if snapshot.values or snapshot.next else None

    async def thread_exists(self, thread_id: str) -> bool:
        """Tell whether the checkpointer holds ``thread_id``."""
        return await self.snapshot(thread_id) is not None


def hub_of(request: Request) -> Hub:
    """Return the hub of the app serving ``request``."""
    hub: Hub = request.app.state.hub
    return hub


def new_thread_id() -> str:
    """Return a fresh thread id."""
    return uuid.uuid4().hex


def checked_thread_id(value: str) -> str:
    """Return ``value`` if it can be a thread id.

    Raises:
        HTTPException: 422 naming the rule it breaks.
    """
    if not _THREAD_ID.match(value):
        raise HTTPException(422, "thread_id: 1-128 letters, digits, '_', '.', ':' or '-'")
    return value
