"""TaskBench data: read its JSONL, map tool names to ours and back, turn our plans into its shape.

TaskBench (arXiv 2311.18760, github.com/microsoft/JARVIS folder ``taskbench``) writes a plan as
``task_nodes`` ``[{"task": "Image-to-Text", "arguments": ["example.jpg"]}, ...]``, where an argument
``<node-j>`` is the output of node j (counted from 0), and ``task_links`` ``[{"source", "target"}]``
by tool name.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from graph.state import Task
from tools.artifacts import InputError
from tools.registry import TASKS

logger = logging.getLogger(__name__)

HUGGINGFACE_TOOLS: Final = MappingProxyType(
    {
        "Token Classification": "text",
        "Translation": "text",
        "Summarization": "text",
        "Question Answering": "text",
        "Conversational": "text",
        "Text Generation": "text",
        "Sentence Similarity": "none",
        "Tabular Classification": "text",
        "Object Detection": "text",
        "Image Classification": "text",
        "Image-to-Image": "image",
        "Image-to-Text": "text",
        "Text-to-Image": "image",
        "Text-to-Video": "video",
        "Visual Question Answering": "text",
        "Document Question Answering": "text",
        "Image Segmentation": "image",
        "Depth Estimation": "image",
        "Text-to-Speech": "audio",
        "Automatic Speech Recognition": "text",
        "Audio-to-Audio": "audio",
        "Audio Classification": "text",
        "Image Editing": "image",
    }
)
"""TaskBench's 23 Hugging Face-domain tools (``tool_desc.json`` order) -> their first output type."""

TOOL_DESC_FILE = "tool_desc.json"
"""The tool list TaskBench keeps beside its data; read instead of `HUGGINGFACE_TOOLS` when present."""

SHAPES: Final = ("single", "chain", "dag")
"""TaskBench's plan shapes: one node, a chain of nodes, any other graph."""

_OUR_REFERENCE = re.compile(r"<GENERATED>-(\d+)")


@dataclass(frozen=True)
class GoldRecord:
    """One TaskBench request and its gold plan.

    Attributes:
        id: the record's id (its line number when it has none).
        instruction: the user request.
        nodes: the gold ``task_nodes``, as written.
        shape: ``single``, ``chain`` or ``dag`` (the record's ``type``, else read off its links).
        line: the line of the file it came from (1-based).
    """

    id: str
    instruction: str
    nodes: tuple[dict[str, Any], ...]
    shape: str
    line: int


def our_name(taskbench_name: str) -> str:
    """Return our task name for a TaskBench tool (``Image-to-Text`` -> ``image-to-text``).

    A tool we do not have keeps its own name, so that it can only score as a miss.
    """
    key = taskbench_name.strip().lower().replace("_", "-").replace(" ", "-")
    return key if key in TASKS else taskbench_name


def taskbench_name(name: str, tools: Mapping[str, str] = HUGGINGFACE_TOOLS) -> str:
    """Return the TaskBench tool name for one of our task names (``image-to-text`` -> ``Image-to-Text``).

    A task TaskBench does not know keeps our name: TaskBench's node F1 then ignores it, while its links
    and arguments count as wrong.
    """
    by_key = {tool.lower().replace(" ", "-"): tool for tool in tools}
    return by_key.get(name, name)


def read_tools(data_path: Path) -> Mapping[str, str]:
    """Return the benchmark's tools and their output types: ``tool_desc.json`` beside the data, else built in.

    Raises:
        InputError: when that file exists but is not TaskBench's tool list.
    """
    path = data_path.parent / TOOL_DESC_FILE
    if not path.is_file():
        return HUGGINGFACE_TOOLS
    try:
        nodes = json.loads(path.read_text(encoding="utf-8"))["nodes"]
        return {str(tool["id"]): (tool["output-type"] or ["none"])[0] for tool in nodes}
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        raise InputError(f"{path}: not a TaskBench tool list ({error})") from error


def read_records(path: Path, limit: int | None = None) -> list[GoldRecord]:
    """Read TaskBench JSONL records (at most ``limit`` scorable ones).

    A record whose ``task_nodes`` is not a list of ``{"task": ...}`` objects is skipped with a warning:
    TaskBench's evaluate.py cannot parse it either and leaves it out ("Parsing Error, Ignore").

    Raises:
        InputError: naming the file and line of a record that is not JSON, has no instruction or repeats
            an id, or when the file cannot be read or holds no scorable record.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InputError(f"cannot read TaskBench data {path}: {error.strerror or error}") from error
    records: list[GoldRecord] = []
    seen: set[str] = set()
    for number, text in enumerate(lines, start=1):
        if limit is not None and len(records) >= limit:
            break
        if not text.strip():
            continue
        record = parse_record(text, f"{path}:{number}", number)
        if record is None:
            continue
        if record.id in seen:
            raise InputError(f"{path}:{number}: id {record.id!r} is used twice")
        seen.add(record.id)
        records.append(record)
    if not records:
        raise InputError(f"{path}: no TaskBench record to score")
    return records


def parse_record(text: str, where: str, line: int) -> GoldRecord | None:
    """Parse one JSONL line; return None (and warn) for gold nodes TaskBench cannot parse.

    Raises:
        InputError: naming ``where`` when the line is not a JSON object with an instruction.
    """
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{where}: not JSON ({error.msg} at column {error.colno})") from error
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    instruction = raw.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise InputError(f"{where}: no 'instruction' text")
    nodes = raw.get("task_nodes")
    if not isinstance(nodes, list) or not all(
        isinstance(node, dict) and isinstance(node.get("task"), str) for node in nodes
    ):
        logger.warning("%s: task_nodes is not a list of {task, arguments} objects; skipped", where)
        return None
    shape = raw.get("type")
    if shape not in SHAPES:
        shape = shape_of(len(nodes), gold_links(nodes, raw.get("task_links")))
    return GoldRecord(str(raw.get("id", line)), instruction, tuple(nodes), str(shape), line)


def gold_links(nodes: Sequence[dict[str, Any]], task_links: Any) -> list[tuple[int, int]]:
    """Return the gold plan's edges as node positions, from ``task_links`` (by name) where it has them."""
    position = {node["task"]: index for index, node in enumerate(nodes)}
    links = []
    for link in task_links if isinstance(task_links, list) else []:
        if isinstance(link, dict) and link.get("source") in position and link.get("target") in position:
            links.append((position[link["source"]], position[link["target"]]))
    return links


def shape_of(n_nodes: int, links: Sequence[tuple[int, int]]) -> str:
    """Return ``single`` for one node, ``chain`` for nodes linked one after another, else ``dag``."""
    if n_nodes <= 1:
        return "single"
    edges = set(links)
    sources = [source for source, _ in edges]
    targets = [target for _, target in edges]
    one_in_one_out = len(set(sources)) == len(sources) and len(set(targets)) == len(targets)
    return "chain" if len(edges) == n_nodes - 1 and one_in_one_out else "dag"


def plan_to_taskbench(tasks: Sequence[Task], tools: Mapping[str, str] = HUGGINGFACE_TOOLS) -> dict[str, Any]:
    """Turn our plan into TaskBench's ``{"task_nodes", "task_links"}``.

    Nodes keep the plan's order; each node's arguments are our argument values in order, with each
    ``<GENERATED>-j`` written ``<node-p>``, p being task j's position. Links come from ``dep`` and the
    references.
    """
    position = {task["id"]: index for index, task in enumerate(tasks)}
    names = [taskbench_name(task["task"], tools) for task in tasks]
    nodes: list[dict[str, Any]] = []
    links: list[dict[str, str]] = []
    for index, task in enumerate(tasks):
        arguments = [_reference_to_node(str(value), position) for value in task["args"].values()]
        nodes.append({"task": names[index], "arguments": arguments})
        sources = [*task.get("dep", []), *(int(ref) for v in task["args"].values() for ref in _refs(v))]
        for source in dict.fromkeys(source for source in sources if source in position):
            links.append({"source": names[position[source]], "target": names[index]})
    return {"task_nodes": nodes, "task_links": links}


def _refs(value: Any) -> list[str]:
    return _OUR_REFERENCE.findall(str(value))


def _reference_to_node(value: str, position: Mapping[int, int]) -> str:
    def replace(match: re.Match[str]) -> str:
        task_id = int(match.group(1))
        return f"<node-{position[task_id]}>" if task_id in position else match.group(0)

    return _OUR_REFERENCE.sub(replace, value)
