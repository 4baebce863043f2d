"""What the page shows of a run: the plan table, the model choices, task statuses, and media messages.

Every function returns plain chat messages (``{"role", "content", "metadata"}`` dicts) or Markdown, so the
views can be tested without a browser. Produced files are named by their ``/files/<run>/<name>`` URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from graph.state import Selection, Task, TaskResult
from tools.registry import FILE_SUFFIXES, Modality

ChatMessage = dict[str, Any]
"""One message of the chat box: role, content (text, a file dict or a component), optional metadata."""

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?"
FILE_URL = re.compile(rf"/files/({_NAME})/({_NAME})")
"""A produced file named in an answer: ``/files/<run>/<name>`` (a sentence's final dot is not part of it)."""
_CELL_LIMIT = 160


def cell(value: Any) -> str:
    """Return ``value`` as one Markdown table cell: JSON for structures, pipes and newlines escaped."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")
    return text if len(text) <= _CELL_LIMIT else text[: _CELL_LIMIT - 1] + "…"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Return a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def thought(title: str, content: str, done: bool, log: str = "") -> ChatMessage:
    """Return a stage message: open, with a spinner while ``done`` is false (the user may fold it)."""
    metadata: dict[str, Any] = {"title": title}
    if not done:
        metadata["status"] = "pending"
    if log:
        metadata["log"] = log
    return {"role": "assistant", "content": content, "metadata": metadata}


def plan_view(tasks: Sequence[Task], attempts: int) -> str:
    """Return the plan as a table: id, task, arguments, dependencies."""
    how = "given plan" if attempts == 0 else f"{attempts} planning call(s)"
    rows = [(t["id"], t["task"], t["args"], ", ".join(map(str, t["dep"])) or "-") for t in tasks]
    return f"{len(tasks)} task(s), {how}\n\n" + table(("id", "task", "arguments", "dependencies"), rows)


def selections_view(selections: Sequence[Selection]) -> str:
    """Return each task's chosen model and why (``none`` when no model can run it)."""
    rows = []
    for selection in selections:
        by = "controller" if selection["by_llm"] else "rule"
        model = selection["model"] or "none"
        rows.append((selection["id"], selection["task"], model, f"{by}: {selection['reason']}"))
    return table(("id", "task", "model", "why"), rows)


def task_status(task: Task, result: TaskResult | None, running_s: float | None) -> tuple[str, str]:
    """Return a task's status word and time: done/failed/skipped with its duration, or running/waiting."""
    if result is None:
        if running_s is None:
            return "waiting", "-"
        return "running", f"{running_s:.0f}s"
    took = "-"
    if result["started_at"] is not None and result["ended_at"] is not None:
        took = f"{result['ended_at'] - result['started_at']:.2f}s"
    return result["status"], took


def statuses_view(
    tasks: Sequence[Task],
    results: Mapping[int, TaskResult],
    running_s: Mapping[int, float],
    chosen: Mapping[int, str | None] | None = None,
) -> str:
    """Return the tasks' status table: id, task, model, status, time, and the error or text shown.

    Args:
        tasks: the plan.
        results: the finished tasks by id.
        running_s: how long each running task has run.
        chosen: the selected model by task id (shown until the result names the model that ran).
    """
    rows = []
    for task in tasks:
        result = results.get(task["id"])
        status, took = task_status(task, result, running_s.get(task["id"]))
        model = (result["model"] if result else None) or (chosen or {}).get(task["id"]) or ""
        detail = ""
        if result is not None:
            detail = result["error"] or result["outputs"].get("text") or ""
        rows.append((task["id"], task["task"], model, status, took, detail))
    return table(("id", "task", "model", "status", "time", "result"), rows)


def failure_lines(results: Iterable[TaskResult]) -> list[str]:
    """Return one line per task that did not succeed: which task, and why."""
    return [
        f"Task {result['id']} ({result['task']}) {result['status']}: {result['error']}"
        for result in results
        if result["status"] != "done"
    ]


def modality_of(name: str) -> Modality | None:
    """Return the media kind of a file name by its suffix (None for other files)."""
    lowered = name.lower()
    for modality in (Modality.IMAGE, Modality.AUDIO, Modality.VIDEO):
        if lowered.endswith(FILE_SUFFIXES[modality]):
            return modality
    return None


def file_urls(text: str) -> list[str]:
    """Return the ``/files/<run>/<name>`` URLs named in ``text``, each once, in order."""
    found: list[str] = []
    for match in FILE_URL.finditer(text):
        if match.group(0) not in found:
            found.append(match.group(0))
    return found


def url_to_path(url: str, workspace_dir: str) -> Path | None:
    """Return the file a ``/files/<run>/<name>`` URL serves (None when it is not such a URL)."""
    match = FILE_URL.fullmatch(url)
    return Path(workspace_dir) / match.group(1) / match.group(2) if match else None


def path_to_url(path: str, workspace_dir: str) -> str:
    """Return the ``/files`` URL of a produced file (the path itself when it is not in a run's folder)."""
    file = Path(path)
    if file.parent.parent.resolve() != Path(workspace_dir).resolve():
        return path
    return f"/files/{file.parent.name}/{file.name}"


def media_messages(urls: Iterable[str], workspace_dir: str, components: Any) -> list[ChatMessage]:
    """Return a player (image, audio, video) and a link for each produced file that still exists.

    Args:
        urls: ``/files/<run>/<name>`` URLs.
        workspace_dir: the folder holding the runs' folders.
        components: the module providing ``Image``, ``Audio`` and ``Video`` (``gradio``).

    Returns:
        Chat messages, two per file (the player, then the link); a missing file gets a note instead.
    """
    makers = {Modality.IMAGE: components.Image, Modality.AUDIO: components.Audio}
    makers[Modality.VIDEO] = components.Video
    messages: list[ChatMessage] = []
    for url in urls:
        path = url_to_path(url, workspace_dir)
        if path is None:
            continue
        if not path.is_file():
            messages.append({"role": "assistant", "content": f"({path.name} is no longer on the server)"})
            continue
        modality = modality_of(path.name)
        if modality is not None:
            messages.append({"role": "assistant", "content": makers[modality](value=str(path))})
        messages.append({"role": "assistant", "content": f"[{path.name}]({url})"})
    return messages


LABELS_SHOWN = 5
"""Labels shown per labelling task, the most likely first."""
_BAR = 20


def labels_view(result: TaskResult) -> str | None:
    """Return a finished labelling task's labels and scores as a table with bars (None for other tasks)."""
    labels = (result["outputs"].get("data") or {}).get("labels")
    if result["status"] != "done" or not isinstance(labels, list) or not labels:
        return None
    rows = []
    for item in labels[:LABELS_SHOWN]:
        score = float(item.get("score", 0.0))
        rows.append((item.get("label", "?"), f"{score:.2f}", "█" * round(max(0.0, min(score, 1.0)) * _BAR)))
    title = f"Task {result['id']} ({result['task']}) on {result['model']}"
    return f"{title}\n\n" + table(("label", "score", ""), rows)


def labels_messages(results: Iterable[TaskResult]) -> list[ChatMessage]:
    """Return one labels table per finished labelling task, in task order."""
    views = (labels_view(result) for result in sorted(results, key=lambda item: item["id"]))
    return [{"role": "assistant", "content": view} for view in views if view]
