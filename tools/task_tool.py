"""Every registered task type as a LangChain tool: arguments from the registry, inference on a backend.

The graph's execute stage calls these tools (so each model call is a tool run in LangSmith and Studio), and
`task_tools` hands the same tools to any LangChain agent.
"""

import functools
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, create_model

from tools.artifacts import InputError, Workspace
from tools.models import Catalog, ModelCard
from tools.registry import TASKS, Modality, TaskSpec
from tools.runners.base import Call, TaskOutput


class Backend(Protocol):
    """What a tool needs from its backends (`tools.backends.router.Backends` is one)."""

    def candidates(self, task: str, top_k: int) -> list[ModelCard]:
        """Return the most downloaded cards for ``task`` that can run now."""
        ...

    async def run(self, card: ModelCard, call: Call) -> TaskOutput:
        """Run one call on ``card``'s model."""
        ...


class NoModelError(LookupError):
    """No model in the catalog can run this task on this backend (or the one asked for is unknown)."""


def tool_args_schema(spec: TaskSpec) -> type[BaseModel]:
    """Return the tool's argument schema: the task's arguments, plus the model to run it on.

    Args:
        spec: the task type.

    Returns:
        A pydantic model named after the task (built once per distinct spec).
    """
    return _schema(spec.name, spec.description, tuple(spec.args.items()), spec.optional_args)


@functools.lru_cache(maxsize=256)
def _schema(
    task: str, description: str, args: tuple[tuple[str, Modality], ...], optional: frozenset[str]
) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, modality in args:
        help_text = "text" if modality is Modality.TEXT else f"path of the {modality} file"
        default = "" if name in optional else ...
        fields[name] = (str, Field(default=default, description=help_text))
    fields["model"] = (
        str,
        Field(
            default="",
            description="Catalog id of the model to use; empty: the most downloaded available one.",
        ),
    )
    class_name = "".join(part.capitalize() for part in task.split("-")) + "Args"
    return create_model(class_name, __doc__=description, **fields)


class TaskTool(BaseTool):
    """One task type as a tool. Returns the output's text as content and the whole `TaskOutput` as artifact.

    Errors raise (``InputError`` for a bad input, such as an empty required argument or a missing file; the
    runner's own errors otherwise): the caller decides whether to fall back to another model.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    spec: TaskSpec
    backend: Any = Field(description="The backend that loads and runs models (a `Backend`).")
    catalog: Catalog
    workspace: Workspace
    file_prefix: str = Field(
        default="", description="Prefix of produced files' names; default the task name."
    )
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("task tools are async: use ainvoke")

    @property
    def _injected_args_keys(self) -> frozenset[str]:
        # Every argument of a task tool comes from the plan: nothing to inject, so skip the signature
        # inspection that LangChain would otherwise redo for each new tool (about 1 ms a request).
        return frozenset()

    # No `from __future__ import annotations` in this module: LangChain reads `_arun`'s type hints on every
    # call, and string annotations would be compiled again each time (about 0.1 ms a call).
    async def _arun(self, model: str = "", **args: str) -> tuple[str, TaskOutput]:
        card = self.model_card(model)
        empty = [name for name in self.spec.required_args if not args.get(name, "").strip()]
        if empty:  # e.g. an upstream task that produced no text: say so rather than run on nothing
            raise InputError(f"{self.spec.name}: argument {empty[0]!r} is empty")
        given = {name: value for name, value in args.items() if value.strip()}
        call = Call(
            args=given,
            workspace=self.workspace,
            stem=self.file_prefix or self.spec.name,
            options=dict(card.options),
        )
        output = await self.backend.run(card, call)
        return summary(output), output

    def model_card(self, model_id: str = "") -> ModelCard:
        """Return the card of ``model_id`` for this task, or the top available candidate when it is empty.

        Raises:
            NoModelError: when the id is unknown for this task or no candidate can run here.
        """
        if model_id:
            card = self.catalog.get(model_id, self.spec.name)
            if card is None:
                raise NoModelError(f"model {model_id!r} is not in the catalog for {self.spec.name}")
            return card
        for card in self.backend.candidates(self.spec.name, 1):
            return card
        raise NoModelError(f"no model available for {self.spec.name}")


def summary(output: TaskOutput) -> str:
    """Return a one-line rendering of an output for the tool message: its text, then any files."""
    files = [path for path in (output.image, output.audio, output.video) if path]
    parts = [output.text] if output.text else []
    if files:
        parts.append("files: " + ", ".join(files))
    return "\n".join(parts) or "(no output)"


def make_tool(
    spec: TaskSpec, backend: Any, catalog: Catalog, workspace: Workspace, file_prefix: str = ""
) -> TaskTool:
    """Return the tool for one task type.

    Args:
        spec: the task type.
        backend: loads and runs models (a `Backend`).
        catalog: where models are looked up.
        workspace: where produced files go and input files are read from.
        file_prefix: prefix of produced files' names.

    Returns:
        The tool, named after the task type.
    """
    return TaskTool(
        name=spec.name,
        description=spec.description,
        args_schema=tool_args_schema(spec),
        spec=spec,
        backend=backend,
        catalog=catalog,
        workspace=workspace,
        file_prefix=file_prefix,
    )


def task_tools(
    backend: Any, catalog: Catalog, workspace: Workspace, registry: Mapping[str, TaskSpec] = TASKS
) -> list[TaskTool]:
    """Return one tool per registered task type (for LangChain agents or direct calls).

    Args:
        backend: loads and runs models (a `Backend`).
        catalog: where models are looked up.
        workspace: where produced files go and input files are read from.
        registry: the task types.

    Returns:
        The tools, in registry order.
    """
    return [make_tool(spec, backend, catalog, workspace) for spec in registry.values()]
