"""What a failed Inference API call means: the error's kind, the server's wait hint, and its message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tools.runners.base import ModelUnavailableError


class RemoteError(ModelUnavailableError):
    """A remote model call failed; the message names the model, the provider or endpoint, and the cause."""


class FailureKind(StrEnum):
    """The kinds of failure the remote backend treats differently."""

    AUTH = "auth"
    NOT_FOUND = "not-found"
    RATE_LIMITED = "rate-limited"
    LOADING = "loading"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    UNSUPPORTED = "unsupported"
    HTTP = "http"


@dataclass(frozen=True)
class Failure:
    """One failed call, read.

    Attributes:
        kind: what went wrong.
        status: the HTTP status, when there was a response.
        detail: the server's error message (or the client's), for the user.
        wait_s: how long the server asked to wait (``Retry-After`` or ``estimated_time``), if it said.
    """

    kind: FailureKind
    status: int | None = None
    detail: str = ""
    wait_s: float | None = None


_STATUS_KINDS = {
    401: FailureKind.AUTH,
    403: FailureKind.AUTH,
    404: FailureKind.NOT_FOUND,
    429: FailureKind.RATE_LIMITED,
    503: FailureKind.LOADING,
}


def classify(error: BaseException) -> Failure:
    """Read what an exception from ``InferenceClient`` means.

    Args:
        error: what the client raised (an ``HfHubHTTPError``, possibly wrapped in a text-generation error; a
            timeout; a connection error; a ``ValueError`` for a task or model the provider does not serve).

    Returns:
        The failure's kind, status, server message and wait hint.
    """
    import httpx
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    chain = _chain(error)
    http_error = next((item for item in chain if isinstance(item, HfHubHTTPError)), None)
    if http_error is not None and getattr(http_error, "response", None) is not None:
        return _from_response(http_error.response, http_error.server_message)
    if any(isinstance(item, TimeoutError | httpx.TimeoutException) for item in chain):
        return Failure(FailureKind.TIMEOUT, detail=str(error))
    if any(isinstance(item, OfflineModeIsEnabled) for item in chain):
        return Failure(FailureKind.UNREACHABLE, detail="HF_HUB_OFFLINE is set, so no request may leave")
    if any(isinstance(item, httpx.TransportError | ConnectionError) for item in chain):
        return Failure(FailureKind.UNREACHABLE, detail=str(error) or type(error).__name__)
    if isinstance(error, ValueError) and "api_key" in str(error):
        return Failure(FailureKind.AUTH, detail=str(error))
    if isinstance(error, ValueError | KeyError | NotImplementedError):
        return Failure(FailureKind.UNSUPPORTED, detail=str(error))
    return Failure(FailureKind.HTTP, detail=f"{type(error).__name__}: {error}")


def _chain(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _from_response(response: Any, server_message: str | None) -> Failure:
    status = int(response.status_code)
    body = _json_body(response)
    detail = server_message or _body_message(body) or _text(response) or f"HTTP {status}"
    wait_s = _retry_after(response.headers.get("retry-after"))
    if wait_s is None and isinstance(body, dict) and isinstance(body.get("estimated_time"), int | float):
        wait_s = float(body["estimated_time"])
    kind = _STATUS_KINDS.get(status, FailureKind.HTTP)
    return Failure(kind, status=status, detail=detail.strip(), wait_s=wait_s)


def _json_body(response: Any) -> Any:
    try:
        return json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError, RuntimeError):  # RuntimeError: a stream never read
        return None


def _body_message(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error") or body.get("message") or body.get("detail")
        if isinstance(error, dict):
            error = error.get("message")
        return str(error) if error else ""
    return ""


def _text(response: Any) -> str:
    try:
        return str(response.text)[:300]
    except (UnicodeDecodeError, RuntimeError):
        return ""


def _retry_after(value: str | None) -> float | None:
    """Read a ``Retry-After`` header given in seconds (the HTTP-date form is rare here: treated as absent)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def describe(failure: Failure, timeout_s: float | None, waited_s: float = 0.0, retries: int = 0) -> str:
    """Return the cause part of a `RemoteError` message.

    Args:
        failure: the last failure.
        timeout_s: the per-request timeout, for a timeout's message.
        waited_s: how long the backend waited for the model to load.
        retries: how many times a rate-limited call was retried.

    Returns:
        One sentence a user can act on.
    """
    status = f"HTTP {failure.status}" if failure.status else ""
    if failure.kind is FailureKind.AUTH:
        return (
            f"the Hugging Face token is missing or rejected ({status or failure.detail}); set HF_TOKEN to a "
            "token allowed to call Inference Providers"
        )
    if failure.kind is FailureKind.NOT_FOUND:
        return f"the model is not served there ({status}: {failure.detail})"
    if failure.kind is FailureKind.RATE_LIMITED:
        return f"rate limited ({status}) after {retries} retries: {failure.detail}"
    if failure.kind is FailureKind.LOADING:
        return (
            f"the model is still loading or unavailable ({status}) after waiting {waited_s:.1f}s: "
            f"{failure.detail}"
        )
    if failure.kind is FailureKind.TIMEOUT:
        limit = f"{timeout_s:g}s" if timeout_s else "the client's limit"
        return f"the request timed out after {limit}"
    if failure.kind is FailureKind.UNREACHABLE:
        return f"the server cannot be reached: {failure.detail}"
    if failure.kind is FailureKind.UNSUPPORTED:
        return f"not served: {failure.detail}"
    return f"{status or 'the call failed'}: {failure.detail}"
