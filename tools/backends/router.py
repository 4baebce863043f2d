"""The backends of one configuration (`inference_mode` local, remote or hybrid), routing each card to one.

Availability is the backends' to say: a card is a candidate when some configured backend can run it now. In
hybrid mode a card runs locally when it can (a folder, a package, the HF cache), else on the remote backend;
local and remote candidates are ranked together, so the executor's fallback crosses between them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Literal, Protocol

from tools.backends.availability import Where, local_availability
from tools.models import Catalog, ModelCard, rank
from tools.runners.base import Call, TaskOutput

logger = logging.getLogger(__name__)

ROUTE_TTL_S = 30.0
"""How long a card's route (where it can run) is reused before the disk is read again."""

InferenceMode = Literal["local", "remote", "hybrid"]
INFERENCE_MODES: tuple[InferenceMode, ...] = ("local", "remote", "hybrid")


class ModelBackend(Protocol):
    """Each backend (`tools.backends.local.LocalBackend`, `tools.backends.remote.RemoteBackend`)."""

    def can_run(self, card: ModelCard) -> bool:
        """Tell whether this backend serves ``card``'s kind of model (runner or task)."""
        ...

    async def run(self, card: ModelCard, call: Call) -> TaskOutput:
        """Run one call on ``card``'s model."""
        ...

    def close(self) -> None:
        """Release what the backend holds."""
        ...


class NotRunnableError(LookupError):
    """No configured backend can run this card now."""


class Backends:
    """The local and/or remote backend of one configuration, with the rule that routes a card to one.

    Args:
        catalog: the model cards.
        local: the local backend (None in remote mode).
        remote: the remote backend (None in local mode, or when none is configured).
    """

    def __init__(self, catalog: Catalog, local: Any = None, remote: Any = None) -> None:
        self.catalog = catalog
        self.local = local
        self.remote = remote
        self._routes: dict[tuple[str, str, str], tuple[float, Where | None]] = {}

    @property
    def mode(self) -> InferenceMode:
        """Return ``local``, ``remote`` or ``hybrid``: which backends are configured."""
        if self.local is not None and self.remote is not None:
            return "hybrid"
        return "remote" if self.remote is not None else "local"

    def where(self, card: ModelCard) -> Where | None:
        """Return how ``card`` can run now (local first), or None.

        The answer is kept for `ROUTE_TTL_S`: selection asks for every candidate (in a worker thread: it reads
        the disk), and running the chosen one then routes it from that answer, on the event loop.
        """
        fresh = self._fresh_route(card)
        if fresh is not None:
            return fresh[0]
        found = self._where_now(card)
        self._routes[(card.id, card.task, card.runner_name)] = (time.monotonic(), found)
        return found

    def known_route(self, card: ModelCard) -> bool:
        """Tell whether `where` can answer for ``card`` without reading the disk."""
        return self._fresh_route(card) is not None

    def known_candidates(self, task: str, top_k: int) -> list[ModelCard] | None:
        """Return `candidates` from routes read in the last `ROUTE_TTL_S`, or None when one must be read."""
        pool = []
        for card in self.catalog.cards:
            if card.task != task:
                continue
            fresh = self._fresh_route(card)
            if fresh is None:
                return None
            if fresh[0] is not None:
                pool.append(card)
        return rank(pool)[:top_k]

    def _fresh_route(self, card: ModelCard) -> tuple[Where | None] | None:
        """Return ``(where,)`` when ``card``'s route was read in the last `ROUTE_TTL_S`, else None."""
        known = self._routes.get((card.id, card.task, card.runner_name))
        if known is None or time.monotonic() - known[0] >= ROUTE_TTL_S:
            return None
        return (known[1],)

    def _where_now(self, card: ModelCard) -> Where | None:
        if self.local is not None and self.local.can_run(card):
            found = local_availability(card, self.catalog.hub_online)
            if found is not None:
                return found
        if self.remote is not None and self.remote.can_run(card):
            return "remote"
        return None

    def can_run(self, card: ModelCard) -> bool:
        """Tell whether some configured backend can run ``card`` now."""
        return self.where(card) is not None

    def candidates(self, task: str, top_k: int) -> list[ModelCard]:
        """Return the ``top_k`` most downloaded cards for ``task`` that can run now (blocking)."""
        pool = [card for card in self.catalog.cards if card.task == task and self.can_run(card)]
        return rank(pool)[:top_k]

    def runnable_tasks(self) -> set[str]:
        """Return the task types that have at least one card that can run now (blocking)."""
        return {card.task for card in self.catalog.cards if self.can_run(card)}

    async def run(self, card: ModelCard, call: Call) -> TaskOutput:
        """Run one call on the backend that ``card`` routes to.

        Raises:
            NotRunnableError: when no configured backend can run it now.
        """
        # Selection has normally just routed this card; otherwise availability reads the disk: off the loop.
        where = self.where(card) if self.known_route(card) else await asyncio.to_thread(self.where, card)
        if where is None:
            raise NotRunnableError(f"no configured backend can run {card.id} ({self.mode} inference)")
        backend = self.remote if where == "remote" else self.local
        return await backend.run(card, call)

    def close(self) -> None:
        """Close every configured backend."""
        for backend in (self.local, self.remote):
            if backend is not None:
                backend.close()
