"""Every registered task type is planned, selected and run through the graph on a real model.

The models are the tiny random ones built from configs (every family) and the packaged offline ones (OpenCV,
mediapipe, rapidocr, ...); the runners, the local backend and its batching are the real ones. Only the
controller is scripted: it plans each group of tasks and answers in one word.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from graph.builder import compile_graph
from graph.context import Context
from graph.services import Resources, Services
from tests.fakes import ScriptedChatModel, plan_reply
from tools.artifacts import encode_wav
from tools.backends.local import LocalBackend
from tools.backends.router import Backends
from tools.models import Catalog
from tools.registry import TASKS, Modality
from tools.runners import default_runners

pytestmark = pytest.mark.slow

OFFLINE_CATALOG = Path(__file__).parents[2] / "configs" / "catalog.offline.yaml"
NO_OFFLINE_MODEL: set[str] = set()
"""Task types with no model to test offline (none: every type runs on a tiny or packaged model)."""

TEXT_ARGS = {
    "text": "The cat sat on the warm mat in Paris.",
    "labels": "cat, dog, car",
    "context": "The cat sat on the warm mat in Paris.",
    "target": "French",
    "other": "A dog sleeps on the sofa.",
}
SPECIAL_TEXT = {
    "fill-mask": "The cat sat on the [MASK].",
    "document-question-answering": "What is the total?",
    "table-question-answering": "How old is bob?",
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    photo = Image.new("RGB", (64, 48), (200, 30, 30))
    ImageDraw.Draw(photo).rectangle((12, 10, 40, 30), fill=(20, 40, 220))
    photo.save(folder / "photo.png")
    receipt = Image.new("RGB", (480, 120), "white")
    ImageDraw.Draw(receipt).text((20, 40), "Invoice total: 42 dollars", fill="black", font_size=32)
    receipt.save(folder / "receipt.png")
    rate = 16000
    tone = 0.3 * np.sin(2 * math.pi * 440.0 * np.arange(int(rate * 0.5)) / rate)
    (folder / "clip.wav").write_bytes(encode_wav(tone, rate))
    (folder / "table.csv").write_text("name,age,city\nann,36,paris\nbob,41,rome\n", encoding="utf-8")
    (folder / "people.csv").write_text("height,weight\n170,60\n185,90\n", encoding="utf-8")
    return folder


def _args(task: str) -> dict[str, str]:
    files = {Modality.IMAGE: "photo.png", Modality.AUDIO: "clip.wav", Modality.TABLE: "table.csv"}
    args: dict[str, str] = {}
    for name, modality in TASKS[task].args.items():
        args[name] = files.get(modality) or TEXT_ARGS[name]
    if "text" in args and task in SPECIAL_TEXT:
        args["text"] = SPECIAL_TEXT[task]
    if task == "document-question-answering":
        args["image"] = "receipt.png"
    if task == "tabular-classification":
        args["table"] = "people.csv"  # the columns the tiny classifier was trained on
    return args


def _groups(size: int = 8) -> list[list[str]]:
    names = [name for name in TASKS if name not in NO_OFFLINE_MODEL]
    return [names[start : start + size] for start in range(0, len(names), size)]


@pytest.fixture(scope="module")
def catalog(tiny_catalog: Path) -> Catalog:
    return Catalog.from_files([tiny_catalog, OFFLINE_CATALOG])


def test_every_task_type_has_a_model_and_a_runner(catalog: Catalog) -> None:
    backends = Backends(catalog, LocalBackend(default_runners()))
    missing = set(TASKS) - NO_OFFLINE_MODEL - backends.runnable_tasks()
    assert not missing, f"no runnable model for {sorted(missing)}"
    backends.close()


async def _run(catalog: Catalog, inputs: Path, tmp_path: Path, replies: list[Any], **state: Any) -> Any:
    llm = ScriptedChatModel(replies=replies)
    resources = Resources(
        llm=llm, catalog=catalog, backend=Backends(catalog, LocalBackend(default_runners()))
    )
    graph = compile_graph(Services.fixed(resources))
    context = Context(
        workspace_dir=str(tmp_path / "ws"), inputs_dir=str(inputs), top_k=1, task_timeout_s=120.0
    )
    try:
        return await graph.ainvoke({"messages": [("user", "run them all")], **state}, context=context)
    finally:
        resources.close()


@pytest.mark.parametrize("group", _groups(), ids=lambda group: f"{group[0]}..{group[-1]}")
async def test_every_task_type_runs_end_to_end(
    group: list[str], catalog: Catalog, inputs: Path, tmp_path: Path
) -> None:
    plan = [{"id": i, "task": task, "dep": [-1], "args": _args(task)} for i, task in enumerate(group)]
    state = await _run(catalog, inputs, tmp_path, [plan_reply(*plan), "Done."])
    assert state.get("plan_error") is None, state.get("plan_error")
    assert [task["task"] for task in state["tasks"]] == group  # planned as asked
    results = {result["task"]: result for result in state["results"]}
    for task in group:
        result = results[task]
        assert result["status"] == "done", f"{task}: {result.get('error')}"
        outputs = result["outputs"]
        for modality in TASKS[task].outputs:
            produced = outputs.get(modality.value)
            assert produced is not None, f"{task} produced no {modality}"
            if modality is not Modality.TEXT:
                assert Path(produced).is_file() and Path(produced).stat().st_size > 0, task
