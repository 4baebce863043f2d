"""Wiring only: the four-stage HuggingGPT graph. `graph` is what langgraph.json names."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from graph.context import Context, configured
from graph.execute import execute
from graph.plan import plan
from graph.prompts import preload
from graph.respond import respond
from graph.review import review
from graph.select import select
from graph.services import Services
from graph.state import InputState, OutputState, State

Node = Callable[..., Awaitable[dict[str, Any]]]
"""A stage: ``(state, runtime, services) -> update``."""


def after_planning(
    state: State, runtime: Runtime[Context], services: Services
) -> Literal["review", "select", "respond"]:
    """Go to plan review when asked for, else on to model selection; with no plan, explain why."""
    if state.get("plan_error"):
        return "respond"
    return "review" if services.settings(runtime.context).review_plan else "select"


def after_review(state: State) -> Literal["select", "respond"]:
    """Go on to model selection unless the reviewer rejected the plan."""
    return "respond" if state.get("plan_error") else "select"


def build(services: Services | None = None) -> StateGraph[State, Context, InputState, OutputState]:
    """Return the uncompiled graph; its nodes take their services from ``services``.

    Args:
        services: the services runs share (default: built from each run's settings, once per setting).

    Returns:
        The graph builder (compile it with a checkpointer for threads and plan review).
    """
    shared = services or Services()
    builder = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
    nodes: tuple[tuple[str, Node], ...] = (
        ("plan", plan),
        ("review", review),
        ("select", select),
        ("execute", execute),
        ("respond", respond),
    )
    for name, node in nodes:
        builder.add_node(name, functools.partial(node, services=shared))
    builder.add_edge(START, "plan")
    route = functools.partial(after_planning, services=shared)
    builder.add_conditional_edges("plan", route, ["review", "select", "respond"])
    builder.add_conditional_edges("review", after_review, ["select", "respond"])
    builder.add_edge("select", "execute")
    builder.add_edge("execute", "respond")
    builder.add_edge("respond", END)
    return builder


def compile_graph(services: Services | None = None, **options: Any) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Return the compiled graph, streaming each task's result as soon as it exists.

    Args:
        services: the services runs share.
        **options: `StateGraph.compile` options (``checkpointer``, ``interrupt_before`` ...).
    """
    compiled = build(services).compile(name="hugginggpt", **options)
    compiled.stream_eager = True  # else a finished task's update waits for the whole execute step
    return compiled


# Read the settings and prompts once, at import (LangGraph Server imports this module in a worker thread),
# so that no run reads a file on the event loop.
configured()
preload()
graph = compile_graph()
