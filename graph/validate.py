"""Plan validation: every rule a task graph must satisfy before anything runs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from graph.state import Task
from tools.registry import Modality, TaskSpec, modality_of_literal

REFERENCE = re.compile(r"<GENERATED>-(\d+)")


class PlanValidationError(ValueError):
    """A plan broke one or more rules; ``errors`` lists each, in words the planner LLM can act on."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid plan: " + "; ".join(self.errors))


class _TaskShape(BaseModel):
    """The fields a task must have, with their types (values are checked by the rules below)."""

    id: int
    task: str
    dep: list[int] = Field(default_factory=list)
    args: dict[str, str] = Field(default_factory=dict)


def references(value: str) -> list[int]:
    """Return the task ids that ``<GENERATED>-N`` markers in ``value`` point to."""
    return [int(match) for match in REFERENCE.findall(value)]


def validate_plan(raw_tasks: Sequence[Mapping[str, Any]], registry: Mapping[str, TaskSpec]) -> list[Task]:
    """Check a plan against every rule and return it normalised (``dep: [-1]`` becomes ``[]``).

    Rules: not empty; unique ids; known task types; required arguments present, no unknown ones; each
    literal argument of the argument's modality; each reference to an earlier task whose output has the
    needed modality; ``dep`` equal to the referenced ids; no cycles.

    Args:
        raw_tasks: the tasks as the LLM or the user gave them.
        registry: task name -> spec.

    Returns:
        The validated tasks, in plan order.

    Raises:
        PlanValidationError: listing every broken rule.
    """
    if not raw_tasks:
        raise PlanValidationError(["the plan is empty: give at least one task"])
    tasks, errors = _parse_tasks(raw_tasks)
    if errors:
        raise PlanValidationError(errors)
    seen: dict[int, Task] = {}
    for task in tasks:
        if task["id"] in seen:
            errors.append(f"task id {task['id']} is used twice")
            continue
        errors.extend(_check_task(task, seen, registry))
        seen[task["id"]] = task
    errors.extend(_check_cycles(tasks))
    if errors:
        raise PlanValidationError(errors)
    return tasks


def _parse_tasks(raw_tasks: Sequence[Mapping[str, Any]]) -> tuple[list[Task], list[str]]:
    tasks: list[Task] = []
    errors: list[str] = []
    for index, raw in enumerate(raw_tasks):
        try:
            shape = _TaskShape.model_validate(_coerce(raw))
        except (ValidationError, ValueError, TypeError) as error:
            errors.append(f"task #{index} is malformed: {_short(error)}")
            continue
        deps = sorted({dep for dep in shape.dep if dep != -1})
        tasks.append(Task(id=shape.id, task=shape.task, dep=deps, args=dict(shape.args)))
    return tasks, errors


def _coerce(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise TypeError(f"expected an object with id, task, dep and args, got {type(raw).__name__}")
    data = dict(raw)
    args = data.get("args")
    if isinstance(args, Mapping):  # LLMs write numbers and lists as argument values
        data["args"] = {
            str(key): value if isinstance(value, str) else str(value) for key, value in args.items()
        }
    if isinstance(data.get("dep"), int):
        data["dep"] = [data["dep"]]
    return data


def _short(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(map(str, first['loc'])) or 'task'}: {first['msg']}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _check_task(task: Task, earlier: Mapping[int, Task], registry: Mapping[str, TaskSpec]) -> list[str]:
    where = f"task {task['id']} ({task['task']})"
    spec = registry.get(task["task"])
    if spec is None:
        known = ", ".join(sorted(registry))
        return [f"task {task['id']}: unknown task type {task['task']!r}; use one of: {known}"]
    errors = [
        f"{where}: missing argument {name!r}"
        for name in spec.required_args
        if not task["args"].get(name, "").strip()
    ]
    referenced: set[int] = set()
    for name, value in task["args"].items():
        if name not in spec.args:
            errors.append(f"{where}: unknown argument {name!r}; it takes {', '.join(spec.args)}")
            continue
        refs = references(value)
        referenced.update(refs)
        errors.extend(_check_argument(task, name, value, spec.args[name], refs, earlier, registry))
    if set(task["dep"]) != referenced:
        errors.append(
            f"task {task['id']}: dep {task['dep'] or [-1]} does not match the tasks its arguments reference "
            f"({sorted(referenced) or [-1]}); dep must list exactly the N of every <GENERATED>-N"
        )
    return errors


def _check_argument(
    task: Task,
    name: str,
    value: str,
    modality: Modality,
    refs: list[int],
    earlier: Mapping[int, Task],
    registry: Mapping[str, TaskSpec],
) -> list[str]:
    where = f"task {task['id']} ({task['task']}) argument {name!r}"
    if modality is not Modality.TEXT and refs and value.strip() != f"<GENERATED>-{refs[0]}":
        return [f"{where}: a {modality} argument is either a file or exactly one <GENERATED>-N"]
    if not refs:
        found = modality_of_literal(value)
        if found is not modality:
            return [f"{where}: needs {modality}, but {value!r} looks like {found}"]
        return []
    errors = []
    for ref in refs:
        if ref == task["id"]:
            errors.append(f"{where}: refers to its own output")
        elif ref not in earlier:
            errors.append(f"{where}: <GENERATED>-{ref} refers to a missing or later task")
        elif modality not in registry[earlier[ref]["task"]].outputs:
            produced = ", ".join(registry[earlier[ref]["task"]].outputs)
            errors.append(
                f"{where}: needs {modality}, but task {ref} ({earlier[ref]['task']}) produces {produced}"
            )
    return errors


def _check_cycles(tasks: Sequence[Task]) -> list[str]:
    graph = {task["id"]: set(task["dep"]) for task in tasks}
    visiting: set[int] = set()
    done: set[int] = set()

    def visit(node: int, path: list[int]) -> list[int] | None:
        if node in done or node not in graph:
            return None
        if node in visiting:
            return [*path[path.index(node) :], node]
        visiting.add(node)
        for nxt in sorted(graph[node]):
            cycle = visit(nxt, [*path, node])
            if cycle:
                return cycle
        visiting.discard(node)
        done.add(node)
        return None

    for node in sorted(graph):
        cycle = visit(node, [])
        if cycle:
            return [f"the dependencies form a cycle: {' -> '.join(map(str, cycle))}"]
    return []
