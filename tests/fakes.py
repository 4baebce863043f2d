"""Test doubles: a scripted controller LLM and instant fake runners for every task type."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from PIL import Image
from pydantic import ConfigDict, Field

from graph.context import Context
from graph.resources import Resources
from tools.backends.local import LocalBackend
from tools.models import Catalog, ModelCard
from tools.registry import TASKS, Modality
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput


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


def plan_reply(*tasks: dict[str, Any]) -> dict[str, Any]:
    """Return a planner reply holding ``tasks``."""
    return {"tasks": list(tasks)}


def _fake_run(model: ModelCard, call: Call) -> TaskOutput:
    options = model.options
    if options.get("sleep"):
        time.sleep(float(options["sleep"]))
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
    if Modality.IMAGE in spec.outputs:
        output.image = str(call.workspace.save_image(Image.new("RGB", (8, 8), "red"), call.stem))
    if Modality.AUDIO in spec.outputs:
        output.audio = str(call.workspace.save_audio(np.zeros(160, np.float32), 16000, call.stem))
    output.data = {"thread": threading.current_thread().name}
    return output


def fake_runners() -> dict[str, Runner]:
    """Return a runner per task type, named ``fake/<task>``, that loads the card itself as its model."""
    return {
        f"fake/{name}": Runner(name=f"fake/{name}", load=lambda card, options: card, run=_fake_run)
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


def make_context(
    tmp_path: Any,
    replies: Sequence[Any] = (),
    catalog: Catalog | None = None,
    **settings: Any,
) -> Context:
    """Return a Context with injected fake services writing under ``tmp_path``."""
    llm = ScriptedChatModel(replies=list(replies))
    backend = LocalBackend(fake_runners(), LoadOptions(), max_workers=16)
    resources = Resources(llm=llm, catalog=catalog or fake_catalog(), backend=backend)
    return Context(
        workspace_dir=str(tmp_path / "workspace"), inputs_dir=str(tmp_path), resources=resources, **settings
    )
