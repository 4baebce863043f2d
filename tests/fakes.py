"""Test doubles: a scripted controller LLM and instant fake runners for every task type."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from PIL import Image
from pydantic import ConfigDict, Field

from graph.builder import compile_graph
from graph.context import Context
from graph.services import Resources, Services
from tools.backends.local import LocalBackend
from tools.backends.router import Backends
from tools.models import Catalog, ModelCard
from tools.registry import TASKS, Modality
from tools.runners.base import Call, LoadOptions, Outcome, Runner, TaskOutput, one_by_one


class ScriptedChatModel(BaseChatModel):
    """Replies with the scripted texts in order (dicts and lists are sent as JSON); records every prompt."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    replies: list[Any] = Field(default_factory=list)
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    default: str = "Done."

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        reply = self.replies.pop(0) if self.replies else self.default
        if isinstance(reply, Exception):
            raise reply
        text = reply if isinstance(reply, str) else json.dumps(reply)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop, None, **kwargs)  # instant: no thread, like an async client


def plan_reply(*tasks: dict[str, Any]) -> dict[str, Any]:
    """Return a planner reply holding ``tasks``."""
    return {"tasks": list(tasks)}


def _log(options: dict[str, Any], line: str) -> None:
    if options.get("log"):  # a file that records each call, for tests that watch a run from outside
        with open(options["log"], "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def _fake_forward(model: ModelCard, calls: Sequence[Call]) -> list[Outcome]:
    """Sleep once per batch (option ``sleep``), as one pass of a batched model does, then answer each call."""
    for call in calls:
        _log(model.options, f"start {call.stem}")
    if model.options.get("sleep"):
        time.sleep(float(model.options["sleep"]))
    return one_by_one(_fake_run)(model, calls)


def _fake_run(model: ModelCard, call: Call) -> TaskOutput:
    options = model.options
    if options.get("fail"):
        raise RuntimeError(str(options["fail"]))
    spec = TASKS[model.task]
    output = TaskOutput(
        text=f"{model.id}:{model.task}({','.join(f'{k}={v}' for k, v in sorted(call.args.items()))})"
    )
    for name, modality in spec.args.items():
        if modality is Modality.IMAGE and name in call.args:
            call.workspace.load_image(call.args[name])
        if modality is Modality.AUDIO and name in call.args:
            call.workspace.load_audio(call.args[name])
        if modality is Modality.TABLE and name in call.args:
            call.workspace.resolve(call.args[name]).read_text(encoding="utf-8")
    if Modality.IMAGE in spec.outputs:
        output.image = str(call.workspace.save_image(Image.new("RGB", (8, 8), "red"), call.stem))
    if Modality.AUDIO in spec.outputs:
        output.audio = str(call.workspace.save_audio(np.zeros(160, np.float32), 16000, call.stem))
    if Modality.VIDEO in spec.outputs:
        output.video = str(call.workspace.write_bytes(call.stem, ".mp4", b"fake video"))
    output.data = {"thread": threading.current_thread().name}
    _log(options, f"done {call.stem}")
    return output


def fake_runners() -> dict[str, Runner]:
    """Return a runner per task type, named ``fake/<task>``, that loads the card itself as its model."""
    return {
        f"fake/{name}": Runner(f"fake/{name}", lambda card, options: card, _fake_forward, max_batch=8)
        for name in TASKS
    }


def fake_card(model_id: str, task: str, downloads: int = 100, **options: Any) -> ModelCard:
    """Return a card served by the fake runner of its task."""
    return ModelCard(
        id=model_id,
        task=task,
        downloads=downloads,
        source="package",
        package="json",
        runner=f"fake/{task}",
        options=options,
    )


def fake_catalog(extra: Iterable[ModelCard] = ()) -> Catalog:
    """Return a catalog with one fake model per task type, plus ``extra``."""
    cards = [fake_card(f"fake/{name}-model", name) for name in TASKS]
    return Catalog(tuple([*cards, *extra]))


@dataclass
class Harness:
    """A compiled graph on fake services (scripted controller, instant fake runners), and its settings."""

    graph: Any
    context: Context
    resources: Resources

    @property
    def llm(self) -> ScriptedChatModel:
        """The scripted controller (its ``prompts`` record every call)."""
        return self.resources.llm  # type: ignore[return-value]

    async def run(self, request: str = "do it", config: Any = None, **inputs: Any) -> dict[str, Any]:
        """Send one request (``plan=`` gives a plan) and return the final state."""
        state = {"messages": [HumanMessage(request)], **inputs}
        return await self.graph.ainvoke(state, config, context=self.context)


def fake_resources(
    replies: Sequence[Any] = (), catalog: Catalog | None = None, workers: int = 16, remote: Any = None
) -> Resources:
    """Return services with a scripted controller and the fake runners (and ``remote``: hybrid)."""
    llm = ScriptedChatModel(replies=list(replies))
    catalog = catalog or fake_catalog()
    local = LocalBackend(fake_runners(), LoadOptions(), max_workers=workers)
    return Resources(llm=llm, catalog=catalog, backend=Backends(catalog, local, remote))


def make_harness(
    tmp_path: Any,
    replies: Sequence[Any] = (),
    catalog: Catalog | None = None,
    checkpointer: Any = None,
    remote: Any = None,
    **settings: Any,
) -> Harness:
    """Return a graph on fake services writing under ``tmp_path``, with ``settings`` for its runs."""
    resources = fake_resources(replies, catalog, remote=remote)
    graph = compile_graph(Services.fixed(resources), checkpointer=checkpointer)
    context = Context(workspace_dir=str(tmp_path / "workspace"), inputs_dir=str(tmp_path), **settings)
    return Harness(graph, context, resources)


def fake_catalog_file(path: Path, extra: Iterable[dict[str, Any]] = ()) -> Path:
    """Write a catalog YAML with one fake model per task type, plus ``extra`` cards; return its path.

    A process that uses it needs the setting ``runners: [tests.fakes:fake_runners]``.
    """
    cards = [
        {
            "id": f"fake/{name}-model",
            "task": name,
            "downloads": 100,
            "source": "package",
            "package": "json",
            "runner": f"fake/{name}",
        }
        for name in TASKS
    ]
    for card in extra:
        cards.append(
            {
                "downloads": 10**9,
                "source": "package",
                "package": "json",
                "runner": f"fake/{card['task']}",
                **card,
            }
        )
    path.write_text(yaml.safe_dump(cards), encoding="utf-8")
    return path
