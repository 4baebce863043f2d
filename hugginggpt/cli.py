"""The `hugginggpt` command: run one request, chat in a REPL, or write example inputs."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.context import ConfigError, Context, load_context
from hugginggpt.render import describe_update, state_json

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from graph.state import InputState

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `hugginggpt` command."""
    parser = argparse.ArgumentParser(prog="hugginggpt", description=__doc__)
    parser.add_argument("--config", help="settings file (default: configs/default.yaml)")
    parser.add_argument("--controller", help="controller LLM, provider/model (e.g. openai/gpt-4o-mini)")
    parser.add_argument("--workspace", dest="workspace_dir", help="folder for produced files")
    parser.add_argument("--inputs-dir", help="folder relative input paths resolve against")
    parser.add_argument("--device", help="auto, cpu or cuda")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="answer one request")
    run.add_argument("request", help="the request, naming input files by path")
    run.add_argument("--plan", type=Path, help="a JSON plan to execute instead of asking the planner")
    run.add_argument("--json", action="store_true", help="print the whole final state as JSON")
    commands.add_parser("chat", help="a chat REPL that keeps the history")
    examples = commands.add_parser("examples", help="write real example inputs (photos, speech)")
    examples.add_argument("folder", nargs="?", default="examples", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 done, 1 nothing could be done, 2 bad usage or configuration.
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command == "examples":
        from hugginggpt.examples import write_examples

        for name, path in write_examples(args.folder).items():
            print(f"{name}: {path}")
        return EXIT_OK
    try:
        context = load_context(
            args.config,
            controller=args.controller,
            workspace_dir=args.workspace_dir,
            inputs_dir=args.inputs_dir,
            device=args.device,
        )
        if args.command == "chat":
            return asyncio.run(chat(context))
        plan = read_plan(args.plan) if args.plan else None
    except (ConfigError, PlanFileError) as error:
        print(f"hugginggpt: {error}", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(run_once(args.request, plan, context, as_json=args.json))


class PlanFileError(ValueError):
    """The --plan file is missing or is not a JSON plan."""


def read_plan(path: Path) -> list[dict[str, Any]]:
    """Read a plan file: a JSON list of tasks, or an object with a ``tasks`` list.

    Raises:
        PlanFileError: naming the file and what is wrong with it.
    """
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanFileError(f"cannot read plan file {path}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise PlanFileError(f"plan file {path} is not JSON: {error}") from error
    tasks = value.get("tasks") if isinstance(value, dict) else value
    if not isinstance(tasks, list) or not all(isinstance(task, dict) for task in tasks):
        raise PlanFileError(f"plan file {path} must hold a list of task objects (or {{'tasks': [...]}})")
    return tasks


async def stream_request(
    graph: Any, inputs: Mapping[str, Any], context: Context, config: RunnableConfig
) -> dict[str, Any]:
    """Stream one request through the graph, printing each stage as it finishes, then the stage timings.

    Args:
        graph: the compiled graph.
        inputs: the graph input.
        context: the run's settings.
        config: the LangGraph run config (thread, run name, tags).

    Returns:
        The final state.
    """
    final: dict[str, Any] = {}
    started = last = time.perf_counter()
    stages: dict[str, float] = {}
    async for mode, chunk in graph.astream(
        inputs, config=config, context=context, stream_mode=["updates", "values"]
    ):
        if mode == "values":
            final = chunk
            continue
        for node, update in chunk.items():
            now = time.perf_counter()
            stage = "execute" if node in ("execute", "join") else node
            stages[stage] = stages.get(stage, 0.0) + now - last
            last = now
            text = describe_update(node, update)
            if text:
                print(text, flush=True)
    timings = " · ".join(f"{stage} {seconds:.2f}s" for stage, seconds in stages.items())
    print(f"[time] {timings} · total {time.perf_counter() - started:.2f}s", flush=True)
    return final


async def run_once(request: str, plan: list[dict[str, Any]] | None, context: Context, as_json: bool) -> int:
    """Answer one request (or execute a given plan) and print the stages, or the final state as JSON.

    Returns:
        The exit status.
    """
    from langchain_core.messages import HumanMessage

    from graph.builder import graph

    inputs: InputState = {"messages": [HumanMessage(request)]}
    if plan is not None:
        inputs["plan"] = plan
    config: RunnableConfig = {"run_name": "hugginggpt", "recursion_limit": 100}
    if as_json:
        final = await graph.ainvoke(inputs, config=config, context=context)
        print(state_json(final))
    else:
        final = await stream_request(graph, inputs, context, config)
        print(f"\n{final.get('answer', '')}")
    succeeded = any(result.status == "done" for result in final.get("results", []))
    return EXIT_OK if succeeded else EXIT_FAILED


async def chat(context: Context) -> int:
    """Run a REPL: each line is a request; the history is kept (and trimmed for the planner).

    Returns:
        The exit status.
    """
    from langchain_core.messages import HumanMessage
    from langgraph.checkpoint.memory import InMemorySaver

    from graph.builder import build

    graph = build().compile(checkpointer=InMemorySaver(), name="hugginggpt")
    config: RunnableConfig = {
        "configurable": {"thread_id": uuid.uuid4().hex},
        "run_name": "hugginggpt",
        "recursion_limit": 100,
    }
    print("HuggingGPT chat. Name input files by path. Empty line or Ctrl-D to quit.")
    while True:
        try:
            line = await asyncio.to_thread(input, "you> ")
        except EOFError:
            break
        if not line.strip():
            break
        final = await stream_request(graph, {"messages": [HumanMessage(line)]}, context, config)
        print(f"\nhugginggpt> {final.get('answer', '')}\n", flush=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
