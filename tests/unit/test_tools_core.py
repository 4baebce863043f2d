import threading

import numpy as np
import pytest
from PIL import Image

from graph.context import ConfigError, load_context
from tools.artifacts import InputError, Workspace, decode_wav, encode_wav
from tools.backends.local import LocalBackend, RunnerNotFoundError
from tools.backends.router import Backends
from tools.models import Catalog, CatalogError, ModelCard
from tools.registry import Modality, get_task, modality_of_literal
from tools.runners import default_runners
from tools.runners.base import Call, Runner, TaskOutput


def test_workspace_names_never_collide_and_files_are_whole(tmp_path):
    workspace = Workspace.for_run(tmp_path, "run1")
    paths = {workspace.write_bytes("task0-x", ".bin", b"abc") for _ in range(200)}
    assert len(paths) == 200 and all(p.read_bytes() == b"abc" for p in paths)
    assert not list((tmp_path / "run1").glob(".partial-*"))


def test_workspace_resolves_inputs_and_names_missing_ones(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "a.png")
    workspace = Workspace.for_run(tmp_path / "ws", "r", base=tmp_path)
    assert workspace.load_image("a.png").size == (4, 4)
    with pytest.raises(InputError, match="input file not found: b.png"):
        workspace.load_image("b.png")
    (tmp_path / "bad.png").write_text("not an image")
    with pytest.raises(InputError, match="not a readable image"):
        workspace.load_image("bad.png")


def test_a_run_reads_only_the_inputs_folder_and_its_threads_files(tmp_path):
    inputs, outside = tmp_path / "inputs", tmp_path / "outside"
    inputs.mkdir(), outside.mkdir()
    for folder in (inputs, outside):
        Image.new("RGB", (4, 4)).save(folder / "a.png")
    (inputs / "link.png").symlink_to(outside / "a.png")
    (inputs / "examples").mkdir()
    Image.new("RGB", (2, 2)).save(inputs / "examples" / "d.png")
    runs = tmp_path / "ws"
    earlier = Workspace.for_run(runs, "earlier")
    made = earlier.save_image(Image.new("RGB", (3, 3)), "task0")
    stranger = Workspace.for_run(runs, "stranger").save_image(Image.new("RGB", (3, 3)), "task0")
    workspace = Workspace.for_run(runs, "now", base=inputs, readable_runs=["earlier"], files_url="/files")
    assert workspace.resolve("a.png") == inputs / "a.png"
    assert workspace.resolve(str(inputs / "a.png")) == inputs / "a.png"
    assert workspace.resolve("/examples/d.png") == inputs / "examples" / "d.png"  # JARVIS-style
    assert workspace.resolve(f"/files/earlier/{made.name}") == made
    assert workspace.resolve(str(made)) == made
    for refused in (
        str(outside / "a.png"),
        "../outside/a.png",
        "link.png",
        f"/files/stranger/{stranger.name}",
    ):
        with pytest.raises(InputError, match="outside the inputs folder"):
            workspace.resolve(refused)
    with pytest.raises(InputError, match="not found"):
        workspace.resolve("/files/../../etc/passwd")
    assert workspace.public_name(str(runs / "now" / "x.png")) == "/files/now/x.png"
    assert workspace.public_name("/elsewhere/x.png") == "/elsewhere/x.png"


def test_wav_round_trip_and_resampling(tmp_path):
    samples = np.sin(np.linspace(0, 100, 22050)).astype(np.float32) * 0.5
    decoded, rate = decode_wav(encode_wav(samples, 22050))
    assert rate == 22050 and np.allclose(decoded, samples, atol=1e-3)
    workspace = Workspace.for_run(tmp_path, "r", base=tmp_path)
    path = workspace.save_audio(samples, 22050, "tts")
    assert workspace.load_audio(str(path), 16000).shape == (16000,)


def test_literal_modalities():
    assert modality_of_literal("photos/cat.PNG") is Modality.IMAGE
    assert modality_of_literal("https://x.org/a.wav?dl=1") is Modality.AUDIO
    assert modality_of_literal("clip.mp4") is Modality.VIDEO
    assert modality_of_literal("a photo of cat.png on a wall") is Modality.TEXT
    with pytest.raises(KeyError, match="unknown task type 'nope'"):
        get_task("nope")


def test_catalog_ranks_by_downloads_and_filters_availability(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "catalog.yaml").write_text(
        "- {id: a, task: summarization, downloads: 5, path: model}\n"
        "- {id: b, task: summarization, downloads: 50, path: missing}\n"
        "- {id: c, task: summarization, downloads: 9, source: package, package: json}\n"
        "- {id: d, task: summarization, downloads: 99, source: package, package: no_such_pkg_xyz}\n"
        "- {id: e, task: summarization, downloads: 999}\n"
    )
    catalog = Catalog.from_files([tmp_path / "catalog.yaml"])
    assert [card.id for card in catalog.candidates("summarization", 5)] == ["e", "d", "b", "c", "a"]
    backends = Backends(catalog, LocalBackend(default_runners()))
    assert [card.id for card in backends.candidates("summarization", 5)] == ["c", "a"]
    assert [card.id for card in backends.candidates("summarization", 1)] == ["c"]
    assert catalog.get("a").location == str(folder)
    online = Backends(Catalog(catalog.cards, hub_online=True), LocalBackend(default_runners()))
    assert [card.id for card in online.candidates("summarization", 5)] == ["e", "c", "a"]
    assert [online.where(card) for card in online.candidates("summarization", 5)] == [
        "downloadable",
        "packaged",
        "local",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {id: a}", "needs at least `id` and `task`"),
        ("- {id: a, task: dreaming}", "unknown task"),
        ("- {id: a, task: summarization, colour: red}", "unexpected keyword"),
        ("{models: 3}", "must be a list"),
        ("- {id: a, task: summarization}\n- {id: a, task: summarization}", "already in"),
    ],
)
def test_catalog_errors_name_the_entry(tmp_path, text, message):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(CatalogError, match=message):
        Catalog.from_files([tmp_path / "c.yaml"])


def test_context_from_file_env_and_overrides(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text("top_k: 3\ncontroller: openai/x\n")
    monkeypatch.setenv("HUGGINGGPT_TOP_K", "4")
    monkeypatch.setenv("HUGGINGGPT_HUB_ONLINE", "yes")
    context = load_context(tmp_path / "s.yaml", controller="local/smollm2")
    assert (context.top_k, context.controller, context.hub_online) == (4, "local/smollm2", True)
    (tmp_path / "bad.yaml").write_text("top_kk: 3\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_context(tmp_path / "bad.yaml")
    monkeypatch.setenv("HUGGINGGPT_TOP_K", "many")
    with pytest.raises(ConfigError, match="top_k"):
        load_context(tmp_path / "s.yaml")


async def test_backend_loads_a_model_once_for_concurrent_calls(tmp_path):
    loads = []

    def load(card, options):
        loads.append(threading.current_thread().name)
        return object()

    runner = Runner.per_call(
        "count/summarization", load, lambda model, call: TaskOutput(text=call.args["text"])
    )
    backend = LocalBackend({"count/summarization": runner}, max_workers=4, max_models=1)
    card = ModelCard(id="m", task="summarization", runner="count/summarization")
    calls = [backend.run(card, Call({"text": str(i)}, Workspace(tmp_path), "s")) for i in range(8)]
    import asyncio

    outputs = await asyncio.gather(*calls)
    assert [o.text for o in outputs] == [str(i) for i in range(8)] and len(loads) == 1
    other = ModelCard(id="n", task="summarization", runner="count/summarization", source="path", path="/x")
    await backend.run(other, Call({"text": "x"}, Workspace(tmp_path), "s"))
    assert len(backend.loaded()) == 1 and len(loads) == 2  # the older model was evicted
    with pytest.raises(RunnerNotFoundError, match="no runner 'nope'"):
        await backend.run(
            ModelCard(id="z", task="summarization", runner="nope"), Call({}, Workspace(tmp_path), "s")
        )
    backend.close()


def test_an_argument_name_means_one_modality_in_every_task_type():
    """The plan schema merges argument names across task types: each name must keep one modality."""
    from graph.plan_schema import args_schema
    from tools.registry import TASKS

    modalities: dict[str, set[str]] = {}
    for spec in TASKS.values():
        for name, modality in spec.args.items():
            modalities.setdefault(name, set()).add(modality.value)
    assert all(len(found) == 1 for found in modalities.values()), modalities
    fields = args_schema(TASKS).model_fields
    assert "file path" in str(fields["table"].description) and "file path" not in str(
        fields["labels"].description
    )
    assert len(TASKS) == 45 and all(spec.default_runner for spec in TASKS.values())
