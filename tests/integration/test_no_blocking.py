"""No blocking call on the event loop in a whole run, with services built from settings as a server does."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from PIL import Image

from graph.builder import compile_graph
from graph.context import Context
from graph.services import Services
from tests.fakes import fake_catalog_file
from tests.integration.openai_server import ScriptedOpenAIServer

blockbuster = pytest.importorskip(
    "blockbuster", reason="blockbuster comes with the serve extra (langgraph-api)"
)

HUB_CARD = {"id": "org/not-cached", "task": "image-classification", "source": "hub", "downloads": 1}
"""A hub model: telling whether it is available looks into the Hugging Face cache on disk."""
PLAN = [
    {"id": 0, "task": "image-classification", "dep": [-1], "args": {"image": "cat.png"}},
    {"id": 1, "task": "text-to-speech", "dep": [0], "args": {"text": "<GENERATED>-0"}},
]


async def test_a_first_run_and_a_planned_run_never_block_the_loop(
    tmp_path, openai_server: ScriptedOpenAIServer, monkeypatch
):
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    Image.new("RGB", (8, 8), "blue").save(tmp_path / "cat.png")
    settings = Context(
        controller="openai/scripted",
        catalogs=[str(fake_catalog_file(tmp_path / "catalog.yaml", [HUB_CARD]))],
        runners=["tests.fakes:fake_runners"],
        device="auto",  # resolving it imports torch: that must happen off the loop
        workspace_dir=str(tmp_path / "ws"),
        inputs_dir=str(tmp_path),
        files_url="/files",
    )
    services = Services()
    graph = compile_graph(services)
    openai_server.script("Given-plan answer.", {"tasks": PLAN}, "Planned answer.")
    guard = blockbuster.BlockBuster()
    guard.activate()
    try:
        given = await graph.ainvoke(
            {"messages": [HumanMessage("what is it?")], "plan": PLAN}, context=settings
        )
        planned = await graph.ainvoke(
            {"messages": [HumanMessage("what is in cat.png? say it")]}, context=settings
        )
    finally:
        guard.deactivate()
        services.close()
    for state in (given, planned):
        assert [result["status"] for result in state["results"]] == ["done", "done"], state["results"]
    assert "/files/" in planned["answer"]
