"""Services are built once per service setting and shared; per-run settings never rebuild them."""

from __future__ import annotations

import pytest

from graph.builder import compile_graph
from graph.context import ConfigError, Context
from graph.services import Resources, Services, extra_runners
from tests.fakes import fake_catalog_file, fake_resources
from tools.artifacts import Workspace
from tools.runners.base import Call

PLAN = [{"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "x"}}]


def settings(tmp_path, **values):
    return Context(workspace_dir=str(tmp_path / "ws"), inputs_dir=str(tmp_path), **values)


async def test_runs_with_different_per_run_settings_share_one_model_load(tmp_path):
    built: list[Resources] = []

    def build(context: Context) -> Resources:
        built.append(fake_resources(["ok"] * 10))
        return built[-1]

    services = Services(build=build)
    graph = compile_graph(services)
    for per_run in ({"top_k": 1}, {"top_k": 3, "answer_max_tokens": 50}, {"task_timeout_s": 9.0}):
        state = await graph.ainvoke({"messages": [], "plan": PLAN}, context=settings(tmp_path, **per_run))
        assert state["results"][0]["status"] == "done"
    assert len(built) == 1
    assert built[0].backend.local.loaded() == ["fake/summarization::fake/summarization-model"]
    await graph.ainvoke({"messages": [], "plan": PLAN}, context=settings(tmp_path, controller="openai/other"))
    assert len(built) == 2  # a service setting builds its own services
    services.close()
    card = built[0].catalog.candidates("summarization", 1)[0]
    with pytest.raises(RuntimeError, match="closed"):  # closed: the backend takes no more calls
        await built[0].backend.local.run(card, Call({"text": "x"}, Workspace(tmp_path), "s"))


def test_real_build_reads_catalogs_and_runner_providers(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    catalog = fake_catalog_file(tmp_path / "catalog.yaml")
    context = settings(
        tmp_path,
        controller="openai/x",
        catalogs=[str(catalog)],
        runners=["tests.fakes:fake_runners"],
        device="cpu",
    )
    resources = Resources.build(context)
    card = resources.catalog.get("fake/summarization-model")
    assert card is not None and resources.backend.can_run(card)
    resources.close()


@pytest.mark.parametrize("provider", ["no_such_module:x", "tests.fakes:missing", "tests.fakes:plan_reply"])
def test_a_bad_runner_provider_is_a_config_error(provider):
    with pytest.raises(ConfigError, match="runner provider"):
        extra_runners([provider])


def test_a_bad_controller_or_catalog_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        Resources.build(settings(tmp_path, controller="openai/x"))
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    with pytest.raises(ConfigError, match="cannot read catalog"):
        Resources.build(settings(tmp_path, controller="openai/x", catalogs=[str(tmp_path / "none.yaml")]))


def test_runs_without_settings_use_the_defaults(tmp_path):
    defaults = settings(tmp_path, top_k=2)
    assert Services(defaults=defaults).settings(None) is defaults
    assert Services().settings(None).top_k == Context().top_k


async def test_the_planner_is_offered_only_task_types_that_can_run(tmp_path):
    from tests.fakes import fake_card, make_harness, plan_reply
    from tools.models import Catalog

    catalog = Catalog((fake_card("m/sum", "summarization"), fake_card("m/tts", "text-to-speech")))
    plan = [{"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "x"}}]
    harness = make_harness(tmp_path, [plan_reply(*plan), "ok"], catalog=catalog)
    assert harness.resources.planner_tasks() == ("summarization", "text-to-speech")
    await harness.run("summarize x")
    prompt = harness.llm.prompts[0]
    system = prompt[0].content
    assert "summarization" in system and "text-to-speech" in system and "object-detection" not in system
    demos = [message.content for message in prompt[1:-1]]
    assert not any("dog.jpg" in text for text in demos)  # no demo that uses a type this machine cannot run
    harness.resources.close()


async def test_a_request_for_a_type_that_cannot_run_is_told_which_and_why(tmp_path):
    from graph.cues import named_task_types
    from tests.fakes import fake_card, make_harness, plan_reply
    from tools.models import Catalog

    assert named_task_types("Transcribe a.wav, then detect the objects in b.png") == [
        "automatic-speech-recognition",
        "object-detection",
    ]
    catalog = Catalog((fake_card("m/asr", "automatic-speech-recognition"),))
    (tmp_path / "a.wav").write_bytes(b"")
    plan = [{"id": 0, "task": "automatic-speech-recognition", "dep": [-1], "args": {"audio": "a.wav"}}]
    harness = make_harness(tmp_path, [plan_reply(*plan), "Here is the transcript."], catalog=catalog)
    state = await harness.run("Transcribe a.wav, then detect the objects in b.png")
    assert state["unavailable"] == ["object-detection"]
    assert "Not available here: object-detection" in state["answer"]
    assert "hugginggpt models --task object-detection" in state["answer"]
    harness.resources.close()
