"""The local backend's per-model batching, slots freed on timeout, and its one model cache."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tools.artifacts import InputError, Workspace
from tools.backends.local import LocalBackend
from tools.backends.model_cache import ModelCache, footprint
from tools.models import ModelCard
from tools.runners.base import BatchSteps, Call, Runner, TaskOutput


class Recorder:
    """A batched runner that records the size of every batch its model sees."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def infer(self, model: Any, items: list[str], options: dict[str, Any]) -> list[str]:
        self.batches.append(len(items))
        if "boom" in items:
            raise RuntimeError("the batch failed")
        return [item.upper() for item in items]

    def runner(self, name: str = "rec/summarization") -> Runner:
        def prepare(model: Any, call: Call) -> str:
            if not call.args["text"]:
                raise InputError("empty text")
            return call.args["text"]

        steps = BatchSteps(prepare, self.infer, lambda model, call, raw: TaskOutput(text=raw))
        return Runner.batched(name, lambda card, options: object(), steps, max_batch=8)


def card(model_id: str = "m", runner: str = "rec/summarization") -> ModelCard:
    return ModelCard(id=model_id, task="summarization", runner=runner)


def call(tmp_path: Path, text: str) -> Call:
    return Call({"text": text}, Workspace(tmp_path), "s")


async def test_concurrent_calls_to_one_model_run_as_one_batch(tmp_path: Path) -> None:
    recorder = Recorder()
    backend = LocalBackend({"rec/summarization": recorder.runner()}, batch_wait_s=0.05)
    outputs = await asyncio.gather(*(backend.run(card(), call(tmp_path, f"t{i}")) for i in range(8)))
    assert [output.text for output in outputs] == [f"T{i}" for i in range(8)]
    assert recorder.batches == [8]
    backend.close()


async def test_batch_size_is_bounded_by_the_backend(tmp_path: Path) -> None:
    recorder = Recorder()
    backend = LocalBackend({"rec/summarization": recorder.runner()}, max_batch_size=3, batch_wait_s=0.05)
    await asyncio.gather(*(backend.run(card(), call(tmp_path, f"t{i}")) for i in range(7)))
    assert recorder.batches == [3, 3, 1]
    backend.close()


async def test_a_bad_input_fails_only_its_own_call(tmp_path: Path) -> None:
    recorder = Recorder()
    backend = LocalBackend({"rec/summarization": recorder.runner()}, batch_wait_s=0.05)
    texts = ["a", "", "boom", "d"]
    outcomes = await asyncio.gather(
        *(backend.run(card(), call(tmp_path, text)) for text in texts), return_exceptions=True
    )
    assert [getattr(outcome, "text", None) for outcome in outcomes] == ["A", None, None, "D"]
    assert isinstance(outcomes[1], InputError)  # failed while preparing: never reached the model
    assert isinstance(outcomes[2], RuntimeError)  # failed the batch; retried alone, it fails alone
    assert recorder.batches[0] == 3 and sorted(recorder.batches[1:]) == [1, 1, 1]
    backend.close()


async def test_a_load_error_fails_every_call_of_the_batch(tmp_path: Path) -> None:
    def load(card: ModelCard, options: Any) -> Any:
        raise OSError("weights missing")

    runner = Runner.per_call("bad/summarization", load, lambda model, call: TaskOutput(text="x"))
    backend = LocalBackend({"bad/summarization": runner})
    for outcome in await asyncio.gather(
        *(backend.run(card(runner="bad/summarization"), call(tmp_path, "x")) for _ in range(2)),
        return_exceptions=True,
    ):
        assert isinstance(outcome, OSError) and "weights missing" in str(outcome)
    backend.close()


async def test_a_timed_out_call_never_blocks_the_fallback(tmp_path: Path) -> None:
    release = threading.Event()

    def stuck(model: Any, calls: Sequence[Call]) -> list[Any]:
        release.wait(30)
        return [TaskOutput(text="late") for _ in calls]

    runners = {
        "stuck/summarization": Runner("stuck/summarization", lambda c, o: object(), stuck),
        "fast/summarization": Runner.per_call(
            "fast/summarization", lambda c, o: object(), lambda m, c: TaskOutput(text="fast")
        ),
    }
    backend = LocalBackend(runners, max_workers=1)  # one slot: the stuck model holds it
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(backend.run(card("a", "stuck/summarization"), call(tmp_path, "x")), 0.3)
    started = time.perf_counter()
    fallback = await asyncio.wait_for(backend.run(card("b", "fast/summarization"), call(tmp_path, "x")), 5)
    assert fallback.text == "fast" and time.perf_counter() - started < 1.0
    release.set()
    backend.close()


def test_the_cache_keeps_models_within_the_memory_budget(tmp_path: Path) -> None:
    weights = []
    for index in range(3):
        path = tmp_path / f"w{index}.onnx"
        path.write_bytes(b"x" * 1000)
        weights.append(path)
    assert footprint({"session": weights[0]}) == 1000
    cache = ModelCache(max_models=8, budget_bytes=2500)
    loads = []
    for index in (0, 1, 0, 2):  # 0 is used again, so 1 is the least recently used when 2 arrives
        cache.get(f"m{index}", lambda index=index: loads.append(index) or {"file": weights[index]})
    assert loads == [0, 1, 2] and cache.keys() == ["m0", "m2"] and cache.total_bytes() == 2000


def test_footprint_counts_torch_parameters() -> None:
    torch = pytest.importorskip("torch")
    layer = torch.nn.Linear(10, 10)  # 110 float32 parameters
    assert footprint(layer) == 440
    assert footprint({"model": layer, "again": layer}) == 440  # one object is counted once


async def test_independent_tasks_on_one_model_reach_it_as_one_batch(tmp_path: Path) -> None:
    from graph.builder import compile_graph
    from graph.context import Context
    from graph.services import Resources, Services
    from tests.fakes import ScriptedChatModel
    from tools.backends.router import Backends
    from tools.models import Catalog

    recorder = Recorder()
    catalog = Catalog(
        (ModelCard("m", "summarization", source="package", package="json", runner="rec/summarization"),)
    )
    local = LocalBackend({"rec/summarization": recorder.runner()})  # no lingering: batch_wait_ms 0
    resources = Resources(
        llm=ScriptedChatModel(replies=["ok"]), catalog=catalog, backend=Backends(catalog, local)
    )
    graph = compile_graph(Services.fixed(resources))
    plan = [{"id": i, "task": "summarization", "dep": [-1], "args": {"text": f"t{i}"}} for i in range(4)]
    context = Context(workspace_dir=str(tmp_path / "ws"), inputs_dir=str(tmp_path))
    state = await graph.ainvoke({"messages": [], "plan": plan}, context=context)
    assert [result["outputs"]["text"] for result in state["results"]] == ["T0", "T1", "T2", "T3"]
    assert recorder.batches == [4]
    resources.close()
