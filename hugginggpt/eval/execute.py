"""Run TaskBench's gold plans through the real graph: given plans, the configured catalog and backends.

Each request's gold ``task_nodes`` are mapped onto our task types and arguments (`gold_plans`); a plan that
maps is sent to the graph as a given plan (no planner call), its models are selected and its tasks run as in
any request. Files the requests name do not exist: synthetic stand-ins are written once into a temporary
inputs folder (`standins`), and every run's outputs go to a temporary workspace beside it.

By default the controller is replaced by `NoController`, which answers every prompt with one fixed
sentence: model selection then falls back to the most downloaded runnable candidate (a fixed rule, so two
runs choose alike), and the answer step costs nothing. The plans are given, so what is measured is whether
our models run them; ``use_controller`` keeps the configured controller for selection and answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from graph.context import Context
from graph.services import Resources, Services
from hugginggpt.eval.gold_plans import UNREADABLE, MappedPlan, Problem, map_gold_plan
from hugginggpt.eval.standins import input_files, write_standins
from hugginggpt.eval.taskbench import parse_record
from tools.artifacts import InputError

logger = logging.getLogger(__name__)

NO_CONTROLLER_REPLY = "No controller: the gold plan was run as given; the task results are listed below."
TEXT_KEPT = 300
"""Characters of each task's text output kept in the results file."""

Progress = Callable[[int, int], None]
"""Called with (requests done, requests in all) after each request."""


class NoController(BaseChatModel):
    """A stand-in controller that answers every prompt with `NO_CONTROLLER_REPLY` (no model, no JSON)."""

    @property
    def _llm_type(self) -> str:
        return "no-controller"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=NO_CONTROLLER_REPLY))])


@dataclass(frozen=True)
class GoldEntry:
    """One request of the data file, with its gold plan mapped (or the reasons it is not)."""

    id: str
    shape: str
    instruction: str
    mapping: MappedPlan


@dataclass(frozen=True)
class RequestOutcome:
    """What running one request's gold plan gave.

    Attributes:
        entry: the request and its mapping.
        tasks: each task's ``id``, ``task``, ``status``, ``model``, ``error`` and trimmed ``outputs``
            (empty when the plan was not run).
        plan_error: why the graph refused the plan, or why the run broke off (None when it ran).
        seconds: the run's wall time (0 when not run).
    """

    entry: GoldEntry
    tasks: list[dict[str, Any]] = field(default_factory=list)
    plan_error: str | None = None
    seconds: float = 0.0

    @property
    def ran(self) -> bool:
        """Return whether the plan went through the graph."""
        return self.entry.mapping.mapped and self.plan_error is None

    @property
    def end_to_end(self) -> bool:
        """Return whether every task of the plan succeeded."""
        return self.ran and bool(self.tasks) and all(task["status"] == "done" for task in self.tasks)


def read_entries(path: Path, limit: int | None = None) -> list[GoldEntry]:
    """Read the first ``limit`` requests of a TaskBench JSONL file and map their gold plans.

    A record whose ``task_nodes`` is not a list of nodes stays in, as a request that is not mapped.

    Raises:
        InputError: for a file that cannot be read, a line that is not a JSON request, or no request.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InputError(f"cannot read TaskBench data {path}: {error.strerror or error}") from error
    entries: list[GoldEntry] = []
    for number, text in enumerate(lines, start=1):
        if limit is not None and len(entries) >= limit:
            break
        if text.strip():
            entries.append(_entry(text, f"{path}:{number}", number))
    if not entries:
        raise InputError(f"{path}: no TaskBench request")
    return entries


def _entry(text: str, where: str, line: int) -> GoldEntry:
    record = parse_record(text, where, line)
    if record is not None:
        return GoldEntry(record.id, record.shape, record.instruction, map_gold_plan(record.nodes))
    raw = json.loads(text)  # parse_record has checked it is a JSON object with an instruction
    problem = Problem(None, "", UNREADABLE, "task_nodes is not a list of {task, arguments} objects")
    shape = str(raw.get("type") or "unknown")
    return GoldEntry(str(raw.get("id", line)), shape, raw["instruction"], MappedPlan([], (problem,)))


def build_resources(context: Context, use_controller: bool) -> Resources:
    """Build the configured services; with ``use_controller`` False the controller is `NoController`.

    Raises:
        ConfigError: for a bad catalog, runner provider or controller setting.
    """
    resources = Resources.build(context)
    return resources if use_controller else dataclasses.replace(resources, llm=NoController())


def execute_file(
    path: Path,
    context: Context,
    limit: int | None = None,
    use_controller: bool = False,
    progress: Progress | None = None,
) -> list[RequestOutcome]:
    """Run the gold plans of a TaskBench file (stand-in inputs and outputs in a temporary folder).

    Args:
        path: the JSONL file.
        context: the settings (catalogs, backends, limits); its inputs and workspace folders are replaced.
        limit: run only the first N requests.
        use_controller: keep the configured controller for model selection and answers.
        progress: told after each request.

    Returns:
        One outcome per request, in file order.

    Raises:
        InputError: for a bad data file.
        ConfigError: for bad settings.
    """
    entries = read_entries(path, limit)
    with tempfile.TemporaryDirectory(prefix="hugginggpt-eval-") as scratch:
        inputs = Path(scratch) / "inputs"
        inputs.mkdir()
        names = input_files(entry.mapping.plan for entry in entries)
        written = write_standins(inputs, names)
        logger.info("wrote %d stand-in input files: %s", len(written), ", ".join(sorted(names)))
        settings = dataclasses.replace(
            context, inputs_dir=str(inputs), workspace_dir=str(Path(scratch) / "runs")
        )
        resources = build_resources(settings, use_controller)
        try:
            return asyncio.run(execute_entries(entries, resources, settings, progress))
        finally:
            resources.close()


async def execute_entries(
    entries: Sequence[GoldEntry], resources: Resources, context: Context, progress: Progress | None = None
) -> list[RequestOutcome]:
    """Run each mapped gold plan through the graph, one request after another.

    Args:
        entries: the requests.
        resources: the services (catalog, backends, controller).
        context: the run settings (inputs folder holding the stand-ins, workspace).
        progress: told after each request.

    Returns:
        One outcome per entry, in order; an entry that is not mapped is not run.
    """
    from graph.builder import compile_graph

    graph = compile_graph(Services.fixed(resources, defaults=context))
    outcomes = []
    for done, entry in enumerate(entries, start=1):
        outcome = RequestOutcome(entry)
        if entry.mapping.mapped:
            outcome = await _run_one(graph, entry, context)
        outcomes.append(outcome)
        if progress is not None:
            progress(done, len(entries))
    return outcomes


async def _run_one(graph: Any, entry: GoldEntry, context: Context) -> RequestOutcome:
    inputs = {"messages": [HumanMessage(entry.instruction)], "plan": entry.mapping.plan}
    config = {"run_name": "hugginggpt-eval-execute", "recursion_limit": 100}
    started = time.perf_counter()
    try:
        final = await graph.ainvoke(inputs, config=config, context=context)
    except Exception as error:  # noqa: BLE001 - one broken run must not stop the benchmark
        logger.warning("request %s: the run failed: %s", entry.id, error, exc_info=True)
        return RequestOutcome(
            entry, [], f"the run broke off: {type(error).__name__}: {error}", _since(started)
        )
    tasks = [_task_record(result) for result in final.get("results", [])]
    return RequestOutcome(entry, tasks, final.get("plan_error"), _since(started))


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _task_record(result: dict[str, Any]) -> dict[str, Any]:
    outputs = result.get("outputs") or {}
    kept: dict[str, str] = {}
    if outputs.get("text"):
        kept["text"] = str(outputs["text"])[:TEXT_KEPT]
    for kind in ("image", "audio", "video"):
        if outputs.get(kind):
            kept[kind] = Path(str(outputs[kind])).name  # the temporary folder is gone after the run
    return {
        "id": result["id"],
        "task": result["task"],
        "status": result["status"],
        "model": result.get("model"),
        "error": result.get("error"),
        "attempts": [attempt.get("error") for attempt in result.get("attempts", [])],
        "outputs": kept,
    }
