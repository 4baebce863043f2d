"""Optional plan review: with ``review_plan``, a run stops after planning until a person decides.

The run interrupts with the plan. Resume it with ``{"action": "approve"}``, ``{"action": "edit", "plan":
[...]}`` or ``{"action": "reject", "reason": "..."}`` (``"approve"``/``"reject"`` alone also work). An edited
plan is validated; an invalid one, or an answer that is none of these, asks again with the problem named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from graph.context import Context
from graph.services import Services
from graph.state import State
from graph.validate import PlanValidationError, validate_plan
from tools.registry import TASKS

HOW_TO_ANSWER = (
    'resume with {"action": "approve"}, {"action": "edit", "plan": [...]} '
    'or {"action": "reject", "reason": "..."}'
)
REJECTED = "the plan was rejected by the reviewer"
"""How `plan_error` starts when a reviewer rejected the plan."""
_APPROVALS = {"approve", "approved", "yes", "y", "ok", "run"}
_REJECTIONS = {"reject", "rejected", "no", "n", "cancel", "stop"}


class Decision:
    """A reviewer's answer, understood: approve, edit (with a plan) or reject (with a reason)."""

    def __init__(self, action: str, plan: list[dict[str, Any]] | None = None, reason: str = "") -> None:
        self.action = action
        self.plan = plan
        self.reason = reason


def understand(answer: Any) -> Decision:
    """Return the decision an answer states.

    Raises:
        ValueError: naming what is wrong with the answer.
    """
    if isinstance(answer, bool):
        return Decision("approve" if answer else "reject")
    if isinstance(answer, str):
        word = answer.strip().lower()
        if word in _APPROVALS | _REJECTIONS:
            return Decision("approve" if word in _APPROVALS else "reject")
        raise ValueError(f"cannot tell what {answer!r} means; {HOW_TO_ANSWER}")
    if isinstance(answer, list):
        return Decision("edit", plan=answer)
    if isinstance(answer, Mapping):
        action = str(answer.get("action") or ("edit" if "plan" in answer else "")).lower()
        if action in _APPROVALS:
            return Decision("approve")
        if action in _REJECTIONS:
            return Decision("reject", reason=str(answer.get("reason") or ""))
        if action == "edit":
            plan = answer.get("plan")
            plan = plan.get("tasks") if isinstance(plan, Mapping) else plan
            if not isinstance(plan, list):
                raise ValueError("an edit needs a plan: a list of tasks")
            return Decision("edit", plan=plan)
    raise ValueError(f"cannot tell what {answer!r} means; {HOW_TO_ANSWER}")


async def review(state: State, runtime: Runtime[Context], services: Services) -> dict[str, Any]:
    """Ask a person to approve, edit or reject the plan (the graph comes here only with ``review_plan``).

    Args:
        state: the graph state (``tasks``).
        runtime: carries the run's Context.
        services: where the settings come from.

    Returns:
        Nothing for an approved plan; the edited ``tasks``; or a ``plan_error`` saying it was rejected.
    """
    if state.get("plan_error") or not state.get("tasks"):
        return {}
    problem = ""
    while True:  # each pass asks once; on resume, LangGraph replays the earlier answers in order
        question: dict[str, Any] = {
            "question": "Run this plan?",
            "tasks": state["tasks"],
            "how": HOW_TO_ANSWER,
        }
        if problem:
            question["problem"] = problem
        try:
            decision = understand(interrupt(question))
            if decision.action == "approve":
                return {}
            if decision.action == "reject":
                why = f": {decision.reason}" if decision.reason else ""
                return {"tasks": [], "plan_error": f"{REJECTED}{why}"}
            return {"tasks": validate_plan(decision.plan or [], TASKS)}
        except (ValueError, PlanValidationError) as error:
            problem = str(error)
