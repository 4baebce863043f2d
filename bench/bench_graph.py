"""Benchmark the graph itself: per-request overhead with instant tools, beside bare LangGraph graphs.

Also fan-out concurrency efficiency.

Services are built once, as a server builds them; every request is a fresh run. The bare graph is
plan -> select -> Send x N -> join -> respond with no-op nodes, measured in the same process.

Run: python -m bench.bench_graph [--requests 100] [--rounds 5] [--tasks 8] [--task-seconds 0.5]
The last line is machine-readable: overhead_ms_p50, bare_ms_p50, ratio (ours / bare), ratio_same_calls (ours /
bare with the same controller and tool calls), concurrency_efficiency.
"""

from __future__ import annotations

import argparse
import asyncio
import operator
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from langchain_core.messages import HumanMessage, ToolCall
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send
from typing_extensions import TypedDict

from tests.fakes import fake_card, fake_catalog, fake_resources, make_harness, plan_reply
from tools.artifacts import Workspace
from tools.registry import TASKS
from tools.task_tool import make_tool

MODEL = "fake/summarization-model"


class BareState(TypedDict, total=False):
    """The bare graph's state."""

    messages: list[Any]
    tasks: list[int]
    results: Annotated[list[int], operator.add]
    answer: str


def bare_graph(calls: Any = None) -> Any:
    """Return plan -> select -> Send x N -> join -> respond, every node a no-op.

    With ``calls`` (the harness of a run), plan and respond also make one controller call each and every
    branch one task-tool call, as ours do: what remains between the two is our own code.
    """

    async def plan(state: BareState) -> dict[str, Any]:
        if calls is not None:
            await calls.llm.ainvoke([HumanMessage("plan")])
        return {"tasks": list(range(3))}

    async def select(state: BareState) -> dict[str, Any]:
        return {}

    def fan_out(state: BareState) -> list[Send]:
        return [Send("branch", {"task": task}) for task in state["tasks"]]

    async def branch(payload: dict[str, Any]) -> dict[str, Any]:
        if calls is not None:
            await calls.tool.ainvoke(
                ToolCall(name="summarization", args={"text": "x", "model": MODEL}, id="b", type="tool_call")
            )
        return {"results": [payload["task"]]}

    async def join(state: BareState) -> dict[str, Any]:
        return {}

    async def respond(state: BareState) -> dict[str, Any]:
        if calls is not None:
            await calls.llm.ainvoke([HumanMessage("answer")])
        return {"answer": "ok"}

    builder = StateGraph(BareState)
    for node in (plan, select, join, respond):
        builder.add_node(node)
    builder.add_node("branch", branch)  # type: ignore[arg-type]
    builder.add_edge(START, "plan")
    builder.add_edge("plan", "select")
    builder.add_conditional_edges("select", fan_out, ["branch"])
    builder.add_edge("branch", "join")
    builder.add_edge("join", "respond")
    builder.add_edge("respond", END)
    return builder.compile()


def _plan(count: int, task: str = "summarization") -> list[dict[str, object]]:
    return [{"id": i, "task": task, "dep": [-1], "args": {"text": f"text {i}"}} for i in range(count)]


async def overhead(requests: int, tasks: int, tmp: Path, with_planner: bool) -> list[float]:
    """Return per-request wall times (ms) with instant fake tools and an instant scripted controller."""
    plan = _plan(tasks)
    replies = [plan_reply(*plan), "ok"] if with_planner else ["ok"]
    harness = make_harness(tmp, replies * requests)
    inputs: dict[str, object] = {} if with_planner else {"plan": plan}
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        await harness.run("bench", **inputs)
        times.append((time.perf_counter() - started) * 1000)
    harness.resources.close()
    return times


@dataclass
class Calls:
    """The controller and the task tool the bare graph calls, to match ours call for call."""

    llm: Any
    tool: Any


async def bare(requests: int, with_calls: bool = False, tmp: Path | None = None) -> list[float]:
    """Return per-request wall times (ms) of the bare graph (with the same LLM and tool calls as ours)."""
    calls = None
    if with_calls:
        resources = fake_resources(["ok"] * (2 * requests))
        workspace = Workspace.for_run(tmp or Path("."), "bare")
        tool = make_tool(TASKS["summarization"], resources.backend, resources.catalog, workspace, "bare")
        calls = Calls(resources.llm, tool)
    graph = bare_graph(calls)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        await graph.ainvoke({"messages": [HumanMessage("bench")]})
        times.append((time.perf_counter() - started) * 1000)
    return times


async def concurrency(tasks: int, seconds: float, tmp: Path) -> tuple[float, float]:
    """Return (wall seconds, critical path / wall) for ``tasks`` independent tasks of ``seconds`` each."""
    catalog = fake_catalog([fake_card("sleepy", "summarization", 10**9, sleep=seconds)])
    harness = make_harness(tmp / "concurrency", ["ok"], catalog=catalog, max_parallel_tasks=tasks)
    started = time.perf_counter()
    state = await harness.run("bench", plan=_plan(tasks))
    wall = time.perf_counter() - started
    assert all(result["status"] == "done" for result in state["results"])
    return wall, seconds / wall


def _row(name: str, times: list[float]) -> str:
    p90 = statistics.quantiles(times, n=10)[-1]
    return f"{name:<52} {statistics.median(times):>9.2f} {p90:>9.2f}"


def best_round(rounds: list[list[float]]) -> list[float]:
    """Return the round with the lowest median (the one least disturbed by the rest of the machine)."""
    return min(rounds, key=statistics.median)


def main() -> None:
    """Run the measurements (rounds interleaved, ours and bare alike) and print a table and a summary line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--task-seconds", type=float, default=0.5)
    args = parser.parse_args()
    rounds: dict[str, list[list[float]]] = {"bare": [], "calls": [], "given": [], "planned": [], "wide": []}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        asyncio.run(overhead(20, 3, tmp / "warmup", with_planner=True))
        asyncio.run(bare(20))
        for index in range(args.rounds):
            rounds["bare"].append(asyncio.run(bare(args.requests)))
            rounds["calls"].append(asyncio.run(bare(args.requests, with_calls=True, tmp=tmp)))
            rounds["given"].append(
                asyncio.run(overhead(args.requests, 3, tmp / f"g{index}", with_planner=False))
            )
            rounds["planned"].append(
                asyncio.run(overhead(args.requests, 3, tmp / f"p{index}", with_planner=True))
            )
            rounds["wide"].append(asyncio.run(overhead(args.requests, args.tasks, tmp / f"w{index}", True)))
        wall, efficiency = asyncio.run(concurrency(args.tasks, args.task_seconds, tmp))
    names = ("bare", "calls", "given", "planned", "wide")
    bare_times, with_calls, given, planned, wide = (best_round(rounds[name]) for name in names)
    print(f"{'measurement (best of ' + str(args.rounds) + ' rounds)':<52} {'p50':>9} {'p90':>9}")
    print(_row("bare LangGraph graph, same shape, 3 branches (ms)", bare_times))
    print(_row("  + the same 2 controller calls and 3 tool calls (ms)", with_calls))
    print(_row("ours, given 3-task plan (ms/request)", given))
    print(_row("ours, planned 3-task request (ms/request)", planned))
    print(_row(f"ours, planned {args.tasks}-task request (ms/request)", wide))
    print(
        f"{args.tasks} independent tasks of {args.task_seconds}s: wall {wall:.3f}s, "
        f"critical path {args.task_seconds}s, efficiency {efficiency:.3f}"
    )
    ours, reference, same_calls = (statistics.median(times) for times in (planned, bare_times, with_calls))
    print(
        f"overhead_ms_p50={ours:.2f} bare_ms_p50={reference:.2f} ratio={ours / reference:.2f} "
        f"ratio_same_calls={ours / same_calls:.2f} concurrency_efficiency={efficiency:.3f}"
    )


if __name__ == "__main__":
    main()
