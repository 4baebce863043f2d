"""The remote backend: task calls on the Hugging Face Inference API (or an endpoint) via ``InferenceClient``.

`RemoteBackend` has the `tools.task_tool.Backend` interface of the local backend. Each call reads its
inputs, sends one request, and writes its outputs in a worker thread, so the event loop never blocks: the
sync ``InferenceClient`` is used rather than ``AsyncInferenceClient`` because huggingface_hub 1.33 resolves
a model's provider (and, for ``hf-inference``, checks its task) with *blocking* Hub requests even in the async
client. Waits between retries (429 rate limits, 503 "model loading") are ``asyncio.sleep``s on the loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tools.backends.remote_errors import Failure, FailureKind, RemoteError, classify, describe
from tools.backends.remote_tasks import REMOTE_TASKS, finish, invoke, provider_offers, remote_task
from tools.models import ModelCard
from tools.runners.base import Call, TaskOutput

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True)
class RemoteSettings:
    """Where and how remote calls go.

    Attributes:
        token: the Hugging Face token (the caller reads ``HF_TOKEN``); None lets huggingface_hub use the
            locally saved one, if any.
        provider: ``hf-inference``, ``auto`` (the user's preferred provider for each model) or any Inference
            Provider name (``together``, ``fal-ai``, ``replicate`` ...).
        endpoint_url: a dedicated Inference Endpoint or TGI server; when set, every call goes there.
        timeout_s: the limit of one request, in seconds (None: no limit).
        max_retries: how many times a rate-limited (429) call is retried.
        max_wait_s: the total time to wait for a model that is loading (503), and the longest single wait a
            server may ask for.
        backoff_s: the first wait between retries when the server names none; it doubles each time.
        max_workers: how many calls may be in flight at once.
    """

    token: str | None = field(default=None, repr=False)
    provider: str = "hf-inference"
    endpoint_url: str | None = None
    timeout_s: float | None = 120.0
    max_retries: int = 3
    max_wait_s: float = 60.0
    backoff_s: float = 1.0
    max_workers: int = 8

    @property
    def where(self) -> str:
        """Return where calls go, for messages: ``endpoint <url>`` or ``provider <name>``."""
        return f"endpoint {self.endpoint_url}" if self.endpoint_url else f"provider {self.provider}"


@dataclass
class _Tries:
    """What one call has been through: rate-limit retries, loading waits, and the time spent waiting."""

    retries: int = 0
    loads: int = 0
    waited_s: float = 0.0

    def count(self, kind: FailureKind, delay: float) -> None:
        """Count one more wait of ``delay`` seconds for a failure of ``kind``."""
        if kind is FailureKind.RATE_LIMITED:
            self.retries += 1
        else:
            self.loads += 1
            self.waited_s += delay


class RemoteBackend:
    """Runs task calls on the Inference API (provider mode) or on one endpoint URL (endpoint mode).

    Args:
        settings: token, provider or endpoint, timeouts and retry bounds.
    """

    def __init__(self, settings: RemoteSettings | None = None) -> None:
        from huggingface_hub import InferenceClient

        self._settings = settings or RemoteSettings()
        provider: Any = self._settings.provider
        self._client = InferenceClient(
            provider=provider, token=self._settings.token, timeout=self._settings.timeout_s
        )
        self._pool = ThreadPoolExecutor(
            max_workers=self._settings.max_workers, thread_name_prefix="hf-remote"
        )

    @property
    def settings(self) -> RemoteSettings:
        """Return the backend's settings."""
        return self._settings

    def serves(self, task: str) -> bool:
        """Tell whether ``task`` runs remotely here: in the method table, and offered by the provider.

        An endpoint URL is called with the ``hf-inference`` helpers (so text-to-video, which only other
        providers offer, cannot run on one); provider ``auto`` is assumed to offer every task.
        """
        remote = REMOTE_TASKS.get(task)
        provider = "hf-inference" if self._settings.endpoint_url else self._settings.provider
        return remote is not None and provider_offers(provider, remote.api_task)

    def can_run(self, card: ModelCard) -> bool:
        """Tell whether ``card`` can run remotely: a hub model of a task served here (see `serves`).

        Never while ``HF_HUB_OFFLINE`` is set: huggingface_hub then refuses every request, endpoints included.
        """
        from huggingface_hub import constants

        return card.source == "hub" and self.serves(card.task) and not constants.is_offline_mode()

    def model_for(self, card: ModelCard) -> str:
        """Return what the request names as the model: the endpoint URL, or the card's hub id."""
        return self._settings.endpoint_url or card.id

    async def run(self, card: ModelCard, call: Call) -> TaskOutput:
        """Run one call on ``card``'s model remotely.

        Args:
            card: the model (a hub id).
            call: the resolved arguments and workspace.

        Returns:
            The task's output, shaped as the local runner's.

        Raises:
            InputError: for a bad input (before any request is sent).
            RemoteError: naming the model, the provider or endpoint and the cause, when the call fails.
        """
        task = remote_task(card.task)
        kwargs = await self._in_pool(task.prepare, call)
        answer = await self._request(
            card, functools.partial(invoke, self._client, task, self.model_for(card), kwargs)
        )
        return await self._in_pool(finish, task, call, answer)

    async def _request(self, card: ModelCard, send: Callable[[], Any]) -> Any:
        """Send; retry 429s with backoff (at most ``max_retries``), wait out 503s (``max_wait_s``)."""
        tries = _Tries()
        while True:
            try:
                return await self._in_pool(send)
            except Exception as error:  # noqa: BLE001 - every failure is read and raised as a RemoteError
                failure = classify(error)
                delay = self._delay(failure, tries)
                if delay is None:
                    cause = describe(failure, self._settings.timeout_s, tries.waited_s, tries.retries)
                    raise RemoteError(f"remote model {card.id} ({self._settings.where}): {cause}") from error
            tries.count(failure.kind, delay)
            logger.info("%s on %s: %s; retrying in %.2fs", card.id, self._settings.where, failure.kind, delay)
            await asyncio.sleep(delay)

    def _delay(self, failure: Failure, tries: _Tries) -> float | None:
        """Return how long to wait before the next try, or None to give up."""
        settings = self._settings
        if failure.kind is FailureKind.RATE_LIMITED:
            if tries.retries >= settings.max_retries:
                return None
            backoff = settings.backoff_s * 2**tries.retries
            delay = failure.wait_s if failure.wait_s is not None else backoff
            return delay if delay <= settings.max_wait_s else None
        if failure.kind is FailureKind.LOADING:
            left = settings.max_wait_s - tries.waited_s
            if left <= 0:
                return None
            backoff = settings.backoff_s * 2**tries.loads
            return min(max(failure.wait_s if failure.wait_s is not None else backoff, 0.0), left)
        return None

    async def _in_pool(self, function: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(function, *args))

    def close(self) -> None:
        """Stop the worker threads (waiting for calls in flight); the HTTP session is huggingface_hub's."""
        self._pool.shutdown(wait=True, cancel_futures=True)
