"""The terminal side of the CLI: stream a request's stages, answer one request, chat in a durable thread."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from graph.context import Context
from hugginggpt.render import describe_update, state_json

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from graph.state import InputState

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


async def stream_request(graph: Any, inputs: Any, context: Context, config: RunnableConfig) -> dict[str, Any]:
    """Stream one request through the graph, printing each stage as it finishes, then the stage timings.

    Args:
        graph: the compiled graph.
        inputs: the graph input (None or a `Command` resumes a thread).
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
            stage = "execute" if node == "run_task" else node
            stages[stage] = stages.get(stage, 0.0) + now - last
            last = now
            text = describe_update(node, update)
            if text:
                print(text, flush=True)
    timings = " · ".join(
        f"{stage} {seconds:.2f}s" for stage, seconds in stages.items() if stage != "__interrupt__"
    )
    print(f"[time] {timings} · total {time.perf_counter() - started:.2f}s", flush=True)
    return final


def exit_status(final: Mapping[str, Any]) -> int:
    """Return 0 when at least one task succeeded, else 1."""
    return EXIT_OK if any(result["status"] == "done" for result in final.get("results", [])) else EXIT_FAILED


async def run_once(request: str, plan: list[dict[str, Any]] | None, context: Context, as_json: bool) -> int:
    """Answer one request (or execute a given plan) and print the stages, or the final state as JSON.

    Returns:
        The exit status.
    """
    from langchain_core.messages import HumanMessage

    from graph.builder import compile_graph
    from graph.services import Services

    inputs: InputState = {"messages": [HumanMessage(request)]}
    if plan is not None:
        inputs["plan"] = plan
    config: RunnableConfig = {"run_name": "hugginggpt", "recursion_limit": 100}
    services = Services()
    try:
        graph = compile_graph(services)
        if as_json:
            final = await graph.ainvoke(inputs, config=config, context=context)
            print(state_json(final))
        else:
            final = await stream_request(graph, inputs, context, config)
            print(f"\n{final.get('answer', '')}")
    finally:
        await asyncio.to_thread(services.close)
    return exit_status(final)


async def chat(context: Context, thread: str | None = None) -> int:
    """Run a REPL in a durable thread: each line is a request; the history is kept across restarts.

    A thread whose last run was cut off (the process was killed) is resumed first; a run that stops for plan
    review asks here whether to run the plan.

    Args:
        context: the settings (``threads`` says where threads are kept).
        thread: the thread to continue; a new one when None.

    Returns:
        The exit status.
    """
    from langchain_core.messages import HumanMessage

    from graph.builder import compile_graph
    from graph.services import Services
    from hugginggpt.threads import describe, open_checkpointer, threads_target, waiting_for

    thread_id = thread or uuid.uuid4().hex[:12]
    config: RunnableConfig = {
        "configurable": {"thread_id": thread_id},
        "run_name": "hugginggpt",
        "recursion_limit": 100,
    }
    services = Services()
    try:
        async with open_checkpointer(context) as checkpointer:
            graph = compile_graph(services, checkpointer=checkpointer)
            print(f"HuggingGPT chat, thread {thread_id} (kept in {describe(threads_target(context))}).")
            print(f"Continue it later with: hugginggpt chat --thread {thread_id}")
            print("Name input files by path. Empty line or Ctrl-D to quit.")
            snapshot = await graph.aget_state(config)
            if snapshot.next and not waiting_for(snapshot):
                print(f"[resume] the last run stopped before {', '.join(snapshot.next)}; finishing it")
                await _turn(graph, None, context, config)
            while True:
                line = await _ask("you> ")
                if not line.strip():
                    break
                await _turn(graph, {"messages": [HumanMessage(line)]}, context, config)
    finally:
        await asyncio.to_thread(services.close)
    return EXIT_OK


async def _turn(graph: Any, inputs: Any, context: Context, config: RunnableConfig) -> None:
    from langgraph.types import Command

    from hugginggpt.threads import waiting_for

    final = await stream_request(graph, inputs, context, config)
    snapshot = await graph.aget_state(config)
    while (pending := waiting_for(snapshot)) is not None:
        print(json.dumps(pending, indent=1, ensure_ascii=False))
        answer = await _ask("review (approve / reject / a JSON plan)> ")
        final = await stream_request(graph, Command(resume=_review_answer(answer)), context, config)
        snapshot = await graph.aget_state(config)
    print(f"\nhugginggpt> {final.get('answer', '')}\n", flush=True)


def _review_answer(answer: str) -> Any:
    text = answer.strip()
    if text.startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text or "reject"


async def _ask(prompt: str) -> str:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        print(file=sys.stdout)
        return ""
