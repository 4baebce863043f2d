"""TaskBench gold plans as our plans: task names mapped, argument lists placed onto our argument names.

A gold node is ``{"task": "Visual Question Answering", "arguments": ["example.jpg", "What is ..."]}``;
ours is ``{"id": 0, "task": "visual-question-answering", "dep": [-1], "args": {"image": ..., "text": ...}}``.
Each argument goes to the argument of its modality: a file by its suffix, ``<node-j>`` by what task j
produces (written ``<GENERATED>-j``, and j joins ``dep``), anything else is text; arguments of one modality
fill that modality's argument names in order. Whatever cannot be placed is reported, never dropped: a plan
with a problem is not run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from graph.validate import PlanValidationError, validate_plan
from hugginggpt.eval.taskbench import our_name
from tools.registry import TASKS, Modality, TaskSpec, modality_of_literal

NO_SUCH_TASK: Final = "no such task type"
BAD_ARGUMENT: Final = "bad argument"
UNREADABLE: Final = "gold plan unreadable"
"""The kinds of mapping problems."""

TASKBENCH_ORDER: Final = {"question-answering": ("context", "text")}
"""Our argument names in TaskBench's argument order, where it differs from ours (QA: passage, question)."""

_NODE_REFERENCE = re.compile(r"<node-(\d+)[^>]*>")
_NAMED_REFERENCE = re.compile(r"<output[ _]of[ _](.+)>", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """Why one gold node (or the whole plan, ``node`` None) cannot become part of our plan.

    Attributes:
        node: the node's position in ``task_nodes``, or None for the plan as a whole.
        tool: the node's TaskBench tool name ("" for the plan as a whole).
        kind: `NO_SUCH_TASK`, `BAD_ARGUMENT` or `UNREADABLE`.
        detail: what exactly is wrong, in words.
    """

    node: int | None
    tool: str
    kind: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        """Return the problem as a JSON object."""
        return {"node": self.node, "tool": self.tool, "kind": self.kind, "detail": self.detail}


@dataclass(frozen=True)
class MappedPlan:
    """A gold plan in our shape, or the problems that keep it from being one.

    Attributes:
        plan: our plan (``[{"id", "task", "dep", "args"}]``, ids are node positions); empty when not mapped.
        problems: every problem found, in node order.
    """

    plan: list[dict[str, Any]]
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    """How the gold plan was read where it was not as written (1-based references, node order)."""

    @property
    def mapped(self) -> bool:
        """Return whether the whole gold plan maps onto our task types and arguments."""
        return not self.problems


@dataclass(frozen=True)
class _Value:
    """One gold argument read: its text in our plan and the modalities it may have."""

    text: str
    modalities: tuple[Modality, ...]
    refs: tuple[int, ...] = ()


@dataclass
class _Node:
    """One node being mapped: where it is, its spec, and the problems found so far."""

    index: int
    tool: str
    spec: TaskSpec
    offset: int = 0
    """What ``<node-j>`` numbers start at (1 in gold plans that count from one)."""
    problems: list[Problem] = field(default_factory=list)

    def problem(self, detail: str) -> None:
        self.problems.append(Problem(self.index, self.tool, BAD_ARGUMENT, f"{self.spec.name}: {detail}"))


def map_gold_plan(nodes: Sequence[Mapping[str, Any]]) -> MappedPlan:
    """Turn TaskBench ``task_nodes`` into our plan, or say why it cannot be one.

    Args:
        nodes: the gold nodes, each ``{"task": tool name, "arguments": [...]}``.

    Returns:
        The plan, validated as the graph will validate it, or its problems (a tool we lack is
        `NO_SUCH_TASK`; an argument that has no place, a missing one or a bad reference is `BAD_ARGUMENT`).
    """
    names = [our_name(str(node.get("task", ""))) for node in nodes]
    outputs = [TASKS[name].outputs if name in TASKS else None for name in names]
    tools = [str(node.get("task", "")) for node in nodes]
    offset = counting_start(nodes)
    notes = ["<node-j> read as counting from 1 (a reference to itself otherwise)"] if offset else []
    plan: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for index, node in enumerate(nodes):
        if names[index] not in TASKS:
            detail = f"no such task type here: {tools[index]!r}"
            problems.append(Problem(index, tools[index], NO_SUCH_TASK, detail))
            continue
        mapping = _Node(index, tools[index], TASKS[names[index]], offset)
        plan.append(_map_node(mapping, node, tools, outputs))
        problems.extend(mapping.problems)
    if problems:
        return MappedPlan([], tuple(problems), tuple(notes))
    ordered = dependency_order(plan)
    if [task["id"] for task in ordered] != [task["id"] for task in plan]:
        notes.append("nodes reordered so that each runs after the nodes whose output it takes")
    try:
        validate_plan(ordered, TASKS)
    except PlanValidationError as error:
        found = tuple(Problem(None, "", BAD_ARGUMENT, detail) for detail in error.errors)
        return MappedPlan([], found, tuple(notes))
    return MappedPlan(ordered, (), tuple(notes))


def _map_node(
    mapping: _Node,
    node: Mapping[str, Any],
    tools: Sequence[str],
    outputs: Sequence[tuple[Modality, ...] | None],
) -> dict[str, Any]:
    """Return one node as our task; what cannot be mapped goes to ``mapping.problems``."""
    arguments = node.get("arguments", [])
    if not isinstance(arguments, list):
        mapping.problem(f"arguments {arguments!r} are not a list")
        arguments = []
    values = [value for raw in arguments if (value := _read(raw, mapping, tools, outputs)) is not None]
    refs = sorted({ref for value in values for ref in value.refs})
    args = _place(mapping, values)
    return {"id": mapping.index, "task": mapping.spec.name, "dep": refs or [-1], "args": args}


def counting_start(nodes: Sequence[Mapping[str, Any]]) -> int:
    """Return 1 when the plan's ``<node-j>`` count from one, else 0.

    Some gold plans number nodes from one: node 1 takes ``<node-1>``. They are read so only when the
    0-based reading has a node take its own output and the 1-based one makes every reference point to
    another node of the plan.
    """
    refs = [
        (index, int(found))
        for index, node in enumerate(nodes)
        for raw in _argument_list(node)
        if isinstance(raw, str)
        for found in _NODE_REFERENCE.findall(raw)
    ]
    self_reference = any(ref == index for index, ref in refs)
    one_based = all(1 <= ref <= len(nodes) and ref - 1 != index for index, ref in refs)
    return 1 if refs and self_reference and one_based else 0


def _argument_list(node: Mapping[str, Any]) -> list[Any]:
    arguments = node.get("arguments")
    return arguments if isinstance(arguments, list) else []


def dependency_order(plan: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the tasks so that each comes after those it depends on (plan order otherwise kept).

    A plan with a cycle, or a dependency on a task it does not have, is returned as it is (validation
    then names the problem).
    """
    ids = {task["id"] for task in plan}
    placed: list[dict[str, Any]] = []
    done: set[int] = set()
    waiting = list(plan)
    while waiting:
        ready = next((task for task in waiting if all(dep in done for dep in task["dep"] if dep != -1)), None)
        if ready is None or any(dep not in ids for dep in ready["dep"] if dep != -1):
            return list(plan)
        placed.append(ready)
        done.add(ready["id"])
        waiting.remove(ready)
    return placed


def _read(
    raw: Any, node: _Node, tools: Sequence[str], outputs: Sequence[tuple[Modality, ...] | None]
) -> _Value | None:
    """Read one gold argument: a reference, a file, or text (None, with a problem, when unusable)."""
    if isinstance(raw, dict) and isinstance(raw.get("from"), str):
        return _reference(_by_name(raw["from"], tools, node), node, outputs)
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        node.problem(f"argument {raw!r} is neither text, a file nor a reference")
        return None
    text = str(raw).strip()
    whole = _NODE_REFERENCE.fullmatch(text)
    if whole:
        return _reference(int(whole.group(1)) - node.offset, node, outputs)
    named = _NAMED_REFERENCE.fullmatch(text)
    if named:
        return _reference(_by_name(named.group(1), tools, node), node, outputs)
    refs = tuple(int(found) - node.offset for found in _NODE_REFERENCE.findall(text))
    if refs:  # a reference inside text: the text with the output in place
        if any(_reference(ref, node, outputs) is None for ref in refs):
            return None
        ours = _NODE_REFERENCE.sub(lambda found: f"<GENERATED>-{int(found.group(1)) - node.offset}", text)
        return _Value(ours, (Modality.TEXT,), refs)
    return _Value(text, (modality_of_literal(text),))


def _by_name(name: str, tools: Sequence[str], node: _Node) -> int | None:
    """Return the position of the one node whose tool is ``name`` (``Image_Segmentation`` works too)."""
    wanted = _key(name)
    found = [index for index, tool in enumerate(tools) if _key(tool) == wanted]
    if len(found) == 1:
        return found[0]
    node.problem(f"the output of {name!r} names {'no' if not found else 'more than one'} node of the plan")
    return None


def _key(name: str) -> str:
    return re.sub(r"[\s_-]+", "-", name.strip().lower())


def _reference(ref: int | None, node: _Node, outputs: Sequence[tuple[Modality, ...] | None]) -> _Value | None:
    """Return the value of a reference to node ``ref``, with the modalities that node produces."""
    if ref is None:
        return None
    if not 0 <= ref < len(outputs):
        written = ref + node.offset
        node.problem(f"<node-{written}> refers to a node the plan does not have (it has {len(outputs)})")
        return None
    if ref == node.index:
        node.problem(f"<node-{ref + node.offset}> refers to this node's own output")
        return None
    produced = outputs[ref]
    modalities = produced if produced is not None else tuple(node.spec.args.values())  # a tool we lack
    return _Value(f"<GENERATED>-{ref}", tuple(dict.fromkeys(modalities)), (ref,))


def _place(node: _Node, values: Sequence[_Value]) -> dict[str, str]:
    """Assign values to argument names by modality, in order; report what has no place or is missing."""
    order = TASKBENCH_ORDER.get(node.spec.name, tuple(node.spec.args))
    slots: dict[Modality, list[str]] = {}
    for name in order:
        slots.setdefault(node.spec.args[name], []).append(name)
    chosen = _choose_modalities(values, slots)
    args: dict[str, str] = {}
    taken: dict[Modality, int] = {}
    for position, (value, modality) in enumerate(zip(values, chosen, strict=True), start=1):
        names = slots.get(modality, [])
        used = taken.get(modality, 0)
        if used >= len(names):
            takes = ", ".join(f"{name} ({kind})" for name, kind in node.spec.args.items())
            node.problem(
                f"argument {position} {_short(value.text)} ({modality}) has no place; it takes {takes}"
            )
            continue
        args[names[used]] = value.text
        taken[modality] = used + 1
    for name in node.spec.required_args:
        if name not in args:
            node.problem(f"no value for its required argument {name!r} ({node.spec.args[name]})")
    return args


def _choose_modalities(values: Sequence[_Value], slots: Mapping[Modality, list[str]]) -> list[Modality]:
    """Fix each value's modality; a reference to a task with several outputs picks one.

    It takes a free non-text argument first (an object detection's boxed image, for a question about an
    image), else text.
    """
    counts: dict[Modality, int] = {}
    for value in values:
        if len(value.modalities) == 1:
            counts[value.modalities[0]] = counts.get(value.modalities[0], 0) + 1
    chosen = []
    for value in values:
        if len(value.modalities) == 1:
            chosen.append(value.modalities[0])
            continue
        usable = [kind for kind in value.modalities if kind in slots] or list(value.modalities)
        free = [kind for kind in usable if counts.get(kind, 0) < len(slots.get(kind, []))]
        pick = next((kind for kind in free if kind is not Modality.TEXT), free[0] if free else usable[0])
        counts[pick] = counts.get(pick, 0) + 1
        chosen.append(pick)
    return chosen


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
