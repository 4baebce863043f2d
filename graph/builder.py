"""Wiring only: the four-stage HuggingGPT graph. `graph` is what langgraph.json names."""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from graph.context import Context
from graph.execute import dispatch, execute, join
from graph.plan import plan
from graph.respond import respond
from graph.select import select
from graph.state import InputState, OutputState, State, TaskRun


def after_plan(state: State) -> Literal["select", "respond"]:
    """Go on to model selection when there is a plan; otherwise explain why there is none."""
    return "respond" if state.get("plan_error") else "select"


def build() -> StateGraph[State, Context, InputState, OutputState]:
    """Return the uncompiled graph (tests compile it with a checkpointer)."""
    builder = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
    builder.add_node(plan)
    builder.add_node(select)
    # `execute` takes a `Send` payload (TaskRun), not the graph state, which the overloads cannot express.
    builder.add_node("execute", execute, input_schema=TaskRun)  # type: ignore[call-overload]
    builder.add_node(join)
    builder.add_node(respond)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", after_plan, ["select", "respond"])
    builder.add_conditional_edges("select", dispatch, ["execute", "respond"])
    builder.add_edge("execute", "join")
    builder.add_conditional_edges("join", dispatch, ["execute", "respond"])
    builder.add_edge("respond", END)
    return builder


graph = build().compile(name="hugginggpt")
