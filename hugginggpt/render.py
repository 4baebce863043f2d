"""Human-readable and JSON views of graph updates and final states (used by the CLI and the REPL)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from graph.state import Selection, Task, TaskResult, output_files


def to_jsonable(value: Any) -> Any:
    """Convert state values (pydantic models, messages, nested containers) to plain JSON values."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, BaseMessage):
        return {"type": value.type, "content": value.content}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # e.g. a LangGraph Interrupt
        return {field.name: to_jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


def state_json(state: Mapping[str, Any]) -> str:
    """Return the whole final state as indented JSON."""
    return json.dumps(to_jsonable(dict(state)), indent=2, ensure_ascii=False)


def describe_update(node: str, update: Mapping[str, Any] | None) -> str:
    """Return the lines to show for one node's state update (empty when there is nothing to show).

    Args:
        node: the node that produced the update.
        update: its returned state update.

    Returns:
        Text for the terminal.
    """
    update = update or {}
    if node == "plan":
        return _plan_lines(update)
    if node == "select":
        return "\n".join(_selection_line(s) for s in update.get("selections", []))
    if node == "run_task" and isinstance(update, Mapping) and "status" in update:
        return result_line(update)  # type: ignore[arg-type]
    return ""


def _plan_lines(update: Mapping[str, Any]) -> str:
    missing = update.get("unavailable") or []
    unavailable = f"\n[plan] asked for, but no model can run here: {', '.join(missing)}" if missing else ""
    if update.get("plan_error"):
        return f"[plan] failed: {update['plan_error']}{unavailable}"
    tasks: list[Task] = update.get("tasks", [])
    attempts = update.get("plan_attempts", 0)
    how = "given plan" if attempts == 0 else f"{attempts} planning call(s)"
    lines = [f"[plan] {len(tasks)} task(s), {how}:"]
    for task in tasks:
        deps = ",".join(map(str, task["dep"])) or "-"
        lines.append(
            f"  {task['id']}. {task['task']} {json.dumps(task['args'], ensure_ascii=False)} (dep {deps})"
        )
    return "\n".join(lines) + unavailable


def _selection_line(selection: Selection) -> str:
    where = f"[select] task {selection['id']} {selection['task']}"
    if selection["model"] is None:
        return f"{where}: {selection['reason']}"
    by = "controller" if selection["by_llm"] else "rule"
    return f"{where} -> {selection['model']} ({by}: {selection['reason']})"


def result_line(result: TaskResult) -> str:
    """Return one line for a task's result: status, time, model, text and files."""
    took = ""
    if result["started_at"] is not None and result["ended_at"] is not None:
        took = f" in {result['ended_at'] - result['started_at']:.2f}s"
    where = f"[execute] task {result['id']} {result['task']}"
    if result["status"] != "done":
        return f"{where} {result['status']}{took}: {result['error']}"
    text = result["outputs"].get("text")
    shown = [text[:200]] if text else []
    shown += output_files(result["outputs"])
    return f"{where} done{took} on {result['model']}: " + " | ".join(shown)
