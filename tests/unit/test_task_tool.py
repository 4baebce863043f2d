from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from PIL import Image
from pydantic import ValidationError

from tests.fakes import fake_card, fake_catalog, fake_runners
from tools.artifacts import InputError, Workspace
from tools.backends.local import LocalBackend
from tools.backends.router import Backends
from tools.registry import TASKS
from tools.runners.base import LoadOptions, TaskOutput
from tools.task_tool import NoModelError, task_tools


@pytest.fixture
def tools(tmp_path):
    Image.new("RGB", (8, 8), "green").save(tmp_path / "leaf.png")
    catalog = fake_catalog([fake_card("popular/sum", "summarization", downloads=10**9)])
    backend = Backends(catalog, LocalBackend(fake_runners(), LoadOptions(), max_workers=2))
    workspace = Workspace.for_run(tmp_path / "ws", "run1", base=tmp_path)
    yield {tool.name: tool for tool in task_tools(backend, catalog, workspace)}
    backend.close()


def call(name, **args):
    return {"type": "tool_call", "id": "1", "name": name, "args": args}


def test_one_tool_per_task_type_with_the_registry_arguments(tools):
    assert list(tools) == list(TASKS)
    schema = tools["translation"].args_schema.model_json_schema()
    assert set(schema["properties"]) == {"text", "target", "model"}
    assert schema["required"] == ["text"]
    assert "image" in tools["visual-question-answering"].args_schema.model_json_schema()["required"]


async def test_tool_call_returns_text_content_and_the_output_as_artifact(tools):
    message = await tools["image-to-text"].ainvoke(call("image-to-text", image="leaf.png"))
    assert isinstance(message, ToolMessage) and isinstance(message.artifact, TaskOutput)
    assert message.content == message.artifact.text and "image=leaf.png" in message.content


async def test_without_a_model_the_most_downloaded_runs(tools):
    message = await tools["summarization"].ainvoke(call("summarization", text="long text"))
    assert message.content.startswith("popular/sum:summarization")
    chosen = await tools["summarization"].ainvoke(
        call("summarization", text="x", model="fake/summarization-model")
    )
    assert chosen.content.startswith("fake/summarization-model:")


async def test_produced_files_are_named_in_the_content(tools):
    message = await tools["text-to-image"].ainvoke(call("text-to-image", text="a leaf"))
    assert message.artifact.image and Path(message.artifact.image).is_file()
    assert f"files: {message.artifact.image}" in message.content


async def test_bad_calls_raise_clear_errors(tools):
    with pytest.raises(ValidationError):
        await tools["translation"].ainvoke(call("translation", target="French"))
    with pytest.raises(NoModelError, match="'nope' is not in the catalog for summarization"):
        await tools["summarization"].ainvoke(call("summarization", text="x", model="nope"))
    with pytest.raises(InputError):
        await tools["image-to-text"].ainvoke(call("image-to-text", image="missing.png"))
    with pytest.raises(InputError, match="summarization: argument 'text' is empty"):
        await tools["summarization"].ainvoke(call("summarization", text="  "))
