"""A thread's past turns, rebuilt from its checkpoint: the chat, the last run's stages, the media inline."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hugginggpt.ui import views
from hugginggpt.ui.turn import TurnProgress
from hugginggpt.ui.views import ChatMessage

UPLOADED = re.compile(r"\buploads/[A-Za-z0-9]{1,32}/[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""An uploaded input named in a request: ``uploads/<folder>/<name>`` under the inputs folder."""

ATTACHED = re.compile(r"\(attached: [^)]*\)\s*$")
"""The note a request ends with when files are attached (see `hugginggpt.ui.uploads.request_text`)."""


def uploaded_paths(text: str, inputs_dir: str) -> list[Path]:
    """Return the uploaded files a request names that still exist (under the inputs folder's uploads)."""
    found = []
    for match in UPLOADED.finditer(text):
        path = Path(inputs_dir) / match.group(0)
        if path.is_file() and path not in found:
            found.append(path)
    return found


def user_messages(text: str, inputs_dir: str, components: Any) -> list[ChatMessage]:
    """Return a request as chat messages: its text, then each uploaded image, sound or video it names."""
    shown: list[ChatMessage] = [{"role": "user", "content": text}]
    makers = {"image": components.Image, "audio": components.Audio, "video": components.Video}
    for path in uploaded_paths(text, inputs_dir):
        modality = views.modality_of(path.name)
        if modality is not None and modality.value in makers:
            shown.append({"role": "user", "content": makers[modality.value](value=str(path))})
    return shown


def last_run(values: Mapping[str, Any], workspace_dir: str) -> TurnProgress:
    """Return the thread's latest run as a finished turn (plan, choices, results; no answer)."""
    progress = TurnProgress(workspace_dir=workspace_dir)
    if "tasks" in values or values.get("plan_error"):
        progress.apply(
            "plan",
            {
                "tasks": values.get("tasks") or [],
                "plan_attempts": values.get("plan_attempts", 0),
                "plan_error": values.get("plan_error"),
                "unavailable": values.get("unavailable") or [],
            },
        )
    progress.selections = list(values.get("selections") or [])
    progress.results = {int(result["id"]): result for result in values.get("results") or []}
    return progress


def thread_messages(
    values: Mapping[str, Any], workspace_dir: str, inputs_dir: str, components: Any
) -> list[ChatMessage]:
    """Return a thread's chat as the page shows it.

    Every turn keeps its request, its answer and the files the answer names; the latest turn also shows
    its plan, model choices and task statuses.

    Args:
        values: the thread's latest state values.
        workspace_dir: the folder of the runs' folders.
        inputs_dir: the inputs folder (uploads are under it).
        components: the module providing the players (``gradio``).
    """
    messages = list(values.get("messages") or [])
    last_ai = max((i for i, m in enumerate(messages) if _kind(m) == "ai"), default=-1)
    shown: list[ChatMessage] = []
    for index, message in enumerate(messages):
        text = _text(message)
        if _kind(message) == "human":
            shown += user_messages(text, inputs_dir, components)
            continue
        if _kind(message) != "ai":
            continue
        run = last_run(values, workspace_dir) if index == last_ai else None
        if run is not None:
            shown += [item for item in run.messages(components, "") if item.get("metadata")]
        shown.append({"role": "assistant", "content": text})
        shown += views.media_messages(views.file_urls(text), workspace_dir, components)
        if run is not None:
            shown += views.labels_messages(run.results.values())
    return shown


def title_of(values: Mapping[str, Any], limit: int = 60) -> str:
    """Return a thread's title: the start of its first request (without the attached files' paths)."""
    for message in values.get("messages") or []:
        if _kind(message) == "human":
            words = ATTACHED.sub("", _text(message)).strip() or _text(message)
            text = " ".join(words.split())
            return text if len(text) <= limit else text[: limit - 1] + "…"
    return "(empty thread)"


def _kind(message: Any) -> str:
    if isinstance(message, Mapping):
        return str(message.get("type", ""))
    return str(getattr(message, "type", ""))


def _text(message: Any) -> str:
    content = message.get("content") if isinstance(message, Mapping) else getattr(message, "content", "")
    if isinstance(content, list):
        parts = (part.get("text", "") if isinstance(part, Mapping) else part for part in content)
        return " ".join(str(part) for part in parts)
    return str(content or "")
