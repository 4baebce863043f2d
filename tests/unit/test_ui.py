"""The web UI's logic without a browser: views, a streamed turn on fake services, uploads, history."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from PIL import Image

from graph.builder import compile_graph
from graph.context import Context
from graph.services import Services
from hugginggpt.server.hub import Hub
from hugginggpt.settings import ServeSettings
from hugginggpt.ui import history, views
from hugginggpt.ui.actions import (
    Actions,
    PlanTextError,
    controller_choices,
    parse_plan,
    remember,
    thread_choices,
)
from hugginggpt.ui.turn import TurnProgress, stream_turn
from hugginggpt.ui.uploads import UploadRefused, keep_uploads, name_attachments, request_text
from tests.fakes import fake_catalog, fake_resources, make_harness, plan_reply
from tools.models import Catalog

COMPONENTS = SimpleNamespace(
    Image=lambda value: ("image", value),
    Audio=lambda value: ("audio", value),
    Video=lambda value: ("video", value),
)
PLAN = [
    {"id": 0, "task": "object-detection", "dep": [-1], "args": {"image": "cat.png"}},
    {"id": 1, "task": "text-to-speech", "dep": [0], "args": {"text": "<GENERATED>-0"}},
]


def contents(messages: list[dict[str, Any]]) -> list[Any]:
    return [message["content"] for message in messages]


def test_a_table_cell_escapes_pipes_and_newlines_and_is_bounded() -> None:
    assert views.cell({"text": "a|b"}) == '{"text": "a\\|b"}'
    assert views.cell("one\ntwo") == "one two"
    assert len(views.cell("x" * 1000)) == 160


def test_the_plan_view_is_a_table_of_id_task_arguments_dependencies() -> None:
    shown = views.plan_view([{"id": 1, "task": "text-to-speech", "dep": [0], "args": {"text": "hi"}}], 0)
    lines = shown.splitlines()
    assert lines[0] == "1 task(s), given plan"
    assert lines[2] == "| id | task | arguments | dependencies |"
    assert lines[4] == '| 1 | text-to-speech | {"text": "hi"} | 0 |'


def test_file_urls_map_to_the_runs_files_and_back(tmp_path: Path) -> None:
    text = "see /files/run1/a.png and /files/run1/a.png, /files/../x and /files/run2/b.wav."
    assert views.file_urls(text) == ["/files/run1/a.png", "/files/run2/b.wav"]
    assert views.url_to_path("/files/run1/a.png", str(tmp_path)) == tmp_path / "run1" / "a.png"
    assert views.path_to_url(str(tmp_path / "run1" / "a.png"), str(tmp_path)) == "/files/run1/a.png"
    assert views.path_to_url("/elsewhere/a.png", str(tmp_path)) == "/elsewhere/a.png"


def test_media_messages_give_a_player_and_a_link_per_file(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    for name in ("a.png", "b.wav", "c.mp4", "d.csv"):
        (tmp_path / "r" / name).write_bytes(b"x")
    urls = [f"/files/r/{name}" for name in ("a.png", "b.wav", "c.mp4", "d.csv", "gone.png")]
    shown = contents(views.media_messages(urls, str(tmp_path), COMPONENTS))
    assert shown[0] == ("image", str(tmp_path / "r" / "a.png"))
    assert shown[1] == "[a.png](/files/r/a.png)"
    assert shown[2][0] == "audio" and shown[4][0] == "video"
    assert shown[6] == "[d.csv](/files/r/d.csv)"  # no player for a table, only the link
    assert shown[7] == "(gone.png is no longer on the server)"


def _labelled(task_id: int, labels: list[dict[str, Any]], status: str = "done") -> dict[str, Any]:
    outputs = {"text": "x", "data": {"labels": labels}}
    return {
        "id": task_id,
        "task": "image-classification",
        "status": status,
        "model": "m",
        "args": {},
        "outputs": outputs,
        "error": None,
        "attempts": [],
        "started_at": 0.0,
        "ended_at": 1.0,
    }


def test_labels_show_as_a_table_with_scores_and_bars_most_likely_first() -> None:
    labels = [{"label": "tabby|cat", "score": 0.75}, {"label": "dog", "score": 0.25}]
    lines = views.labels_view(_labelled(1, labels)).splitlines()
    assert lines[0] == "Task 1 (image-classification) on m"
    assert lines[4] == "| tabby\\|cat | 0.75 | " + "█" * 15 + " |"
    assert lines[5] == "| dog | 0.25 | " + "█" * 5 + " |"
    assert views.labels_view(_labelled(2, labels, status="failed")) is None
    assert views.labels_view({**_labelled(3, []), "outputs": {"text": "a caption"}}) is None
    many = [{"label": f"l{i}", "score": 0.1} for i in range(9)]
    assert len(views.labels_view(_labelled(4, many)).splitlines()) == 4 + views.LABELS_SHOWN


def test_a_finished_turn_shows_the_labels_after_the_answer(tmp_path: Path) -> None:
    progress = TurnProgress(workspace_dir=str(tmp_path))
    progress.answer = "It is a cat."
    progress.results = {0: _labelled(0, [{"label": "cat", "score": 0.9}])}
    shown = contents(progress.messages(COMPONENTS, "t"))
    assert shown[0] == "It is a cat." and shown[1].startswith("Task 0 (image-classification) on m")


async def test_a_streamed_turn_shows_plan_models_statuses_then_answer_and_media(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, replies=["The cat is found."], files_url="/files")
    Image.new("RGB", (8, 8)).save(tmp_path / "cat.png")
    progress = TurnProgress(workspace_dir=harness.context.workspace_dir)
    inputs = {"messages": [("user", "find the cat")], "plan": PLAN}
    seen = []
    async for step in stream_turn(harness.graph, inputs, {}, harness.context, progress):
        seen.append([m.get("metadata", {}).get("title") for m in step.messages(COMPONENTS, "t")])
    assert seen[0] == ["Plan"]
    assert seen[1] == ["Plan", "Models", "Tasks"]
    final = progress.messages(COMPONENTS, "t")
    assert "done" in final[2]["content"] and final[2]["metadata"] == {"title": "Tasks", "log": "2/2 done"}
    assert final[3]["content"].startswith("The cat is found.")
    kinds = [item[0] for item in contents(final[4:]) if isinstance(item, tuple)]
    assert kinds == ["image", "audio"]


async def test_a_turn_without_a_plan_says_why(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, replies=[])
    progress = TurnProgress(workspace_dir=harness.context.workspace_dir)
    plan = [{"id": 0, "task": "no-such-task", "dep": [-1], "args": {}}]
    inputs = {"messages": [("user", "go")], "plan": plan}
    async for _ in stream_turn(harness.graph, inputs, {}, harness.context, progress):
        pass
    texts = " ".join(str(content) for content in contents(progress.messages(COMPONENTS, "t")))
    assert "No plan:" in texts and "I could not make a plan for this request" in texts
    assert texts.count("I could not make a plan") == 1


async def test_a_controller_that_fails_is_named_in_the_turn(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, replies=[RuntimeError("controller unreachable")])
    progress = TurnProgress(workspace_dir=harness.context.workspace_dir)
    async for _ in stream_turn(harness.graph, {"messages": [("user", "go")]}, {}, harness.context, progress):
        pass
    assert "controller unreachable" in " ".join(contents(progress.messages(COMPONENTS, "t")))


class BrokenGraph:
    """A graph whose run fails outright after the plan (as a store that goes away would)."""

    async def astream(self, *args: Any, **kwargs: Any) -> Any:
        yield {"plan": {"tasks": [], "plan_attempts": 1}}
        raise ConnectionError("threads store is gone")


async def test_a_run_that_raises_ends_the_turn_with_the_error(tmp_path: Path) -> None:
    progress = TurnProgress(workspace_dir=str(tmp_path))
    steps = [step.planned async for step in stream_turn(BrokenGraph(), {}, {}, None, progress)]
    assert steps == [True, True]
    assert progress.error == "ConnectionError: threads store is gone"
    assert contents(progress.messages(COMPONENTS, "t"))[-1].startswith("**The request failed:**")


def test_uploads_are_kept_under_the_inputs_uploads_folder(tmp_path: Path) -> None:
    photo = tmp_path / "my cat.png"
    photo.write_bytes(b"png")
    named = keep_uploads([str(photo)], str(tmp_path / "inputs"), 1000)
    assert len(named) == 1 and named[0].startswith("uploads/") and named[0].endswith("/my-cat.png")
    assert (tmp_path / "inputs" / named[0]).read_bytes() == b"png"
    assert request_text("what is it?", named) == f"what is it?\n(attached: {named[0]})"
    plan = name_attachments([{"id": 0, "args": {"image": "my cat.png"}}], [str(photo)], named)
    assert plan == [{"id": 0, "args": {"image": named[0]}}]


@pytest.mark.parametrize(("name", "size", "says"), [("tool.exe", 3, "only images"), ("a.png", 5000, "limit")])
def test_uploads_that_are_not_media_or_too_large_are_refused(
    tmp_path: Path, name: str, size: int, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"x" * size)
    with pytest.raises(UploadRefused, match=says):
        keep_uploads([str(path)], str(tmp_path / "inputs"), 1000)
    assert not (tmp_path / "inputs").exists()


def test_a_given_plan_must_be_a_json_list_of_tasks() -> None:
    assert parse_plan("  ") is None
    assert parse_plan('{"tasks": [{"id": 0}]}') == [{"id": 0}]
    with pytest.raises(PlanTextError, match="not valid JSON"):
        parse_plan("[{")
    with pytest.raises(PlanTextError, match="list of tasks"):
        parse_plan('"run"')


def test_the_thread_list_puts_the_latest_first_and_keeps_titles() -> None:
    known = remember([], "a", "first")
    known = remember(known, "b", "second")
    known = remember(known, "a", "renamed?")
    assert known == [{"id": "a", "title": "first"}, {"id": "b", "title": "second"}]
    assert thread_choices(known) == [("first", "a"), ("second", "b")]


async def test_a_thread_is_rebuilt_from_its_checkpoint_with_every_turns_media(tmp_path: Path) -> None:
    resources = fake_resources(["first answer", plan_reply(PLAN[0]), "second answer"])
    graph = compile_graph(Services.fixed(resources), checkpointer=InMemorySaver())
    harness = make_harness(tmp_path, files_url="/files")
    Image.new("RGB", (8, 8)).save(tmp_path / "cat.png")
    config: RunnableConfig = {"configurable": {"thread_id": "t1"}}
    first: Any = {"messages": [("user", "find the cat\n(attached: x)")], "plan": PLAN}
    await graph.ainvoke(first, config, context=harness.context)
    second: Any = {"messages": [("user", "again")]}
    await graph.ainvoke(second, config, context=harness.context)
    snapshot = await graph.aget_state(config)
    values = snapshot.values
    shown = history.thread_messages(values, harness.context.workspace_dir, str(tmp_path), COMPONENTS)
    roles = [message["role"] for message in shown]
    assert roles[0] == "user" and roles.count("user") == 2
    players = [content[0] for content in contents(shown) if isinstance(content, tuple)]
    assert players == ["image", "audio", "image"]  # turn 1: detection + speech; turn 2: detection
    titles = [message.get("metadata", {}).get("title") for message in shown]
    assert titles.count("Plan") == 1  # the stages of the latest run only
    assert history.title_of(values) == "find the cat"


GRADIO_LIKE = SimpleNamespace(skip=lambda: "skip", update=lambda **changes: changes, **vars(COMPONENTS))


async def send(actions: Actions, text: str, thread: str, plan: str = "") -> list[tuple[Any, ...]]:
    message = {"text": text, "files": []}
    context = actions.hub.context
    return [out async for out in actions.send(message, [], thread, [], context.controller, "local", plan)]


async def test_a_plan_under_review_runs_once_the_next_message_approves_it(tmp_path: Path) -> None:
    resources = fake_resources(["All done."])
    services = Services.fixed(resources)
    graph = compile_graph(services, checkpointer=InMemorySaver())
    context = Context(
        workspace_dir=str(tmp_path / "ws"), inputs_dir=str(tmp_path), files_url="/files", review_plan=True
    )
    hub = Hub(graph=graph, context=context, settings=ServeSettings(), services=services)
    actions = Actions(hub=hub, components=GRADIO_LIKE)
    plan = json.dumps([{"id": 0, "task": "text-to-speech", "dep": [-1], "args": {"text": "hi"}}])
    first = await send(actions, "say hi", "", plan)
    thread = first[0][2]
    assert "waits for your review" in str(contents(first[-1][0])[-1])
    second = await send(actions, "approve", thread)
    chat = contents(second[-1][0])
    assert chat[0] == "approve"
    assert any(str(item).startswith("All done.") for item in chat)
    assert [item[0] for item in chat if isinstance(item, tuple)] == ["audio"]


async def test_a_stopped_request_leaves_the_thread_ready_for_the_next_one(tmp_path: Path) -> None:
    from tests.fakes import fake_card

    others = [card for card in fake_catalog().cards if card.task != "text-to-speech"]
    catalog = Catalog(
        (*others, fake_card("slow-voice", "text-to-speech", sleep=30))
    )  # one candidate: no pick
    resources = fake_resources(["Said it."], catalog=catalog)
    services = Services.fixed(resources)
    graph = compile_graph(services, checkpointer=InMemorySaver())
    context = Context(workspace_dir=str(tmp_path / "ws"), inputs_dir=str(tmp_path), files_url="/files")
    hub = Hub(graph=graph, context=context, settings=ServeSettings(), services=services)
    actions = Actions(hub=hub, components=GRADIO_LIKE)
    slow = json.dumps([{"id": 0, "task": "text-to-speech", "dep": [-1], "args": {"text": "hi"}}])
    message = {"text": "say hi slowly", "files": []}
    turn = actions.send(message, [], "", [], context.controller, "local", slow)
    thread = (await anext(turn))[2]
    for _ in range(3):  # until the task runs: plan, models, then the running task
        await anext(turn)
    await turn.aclose()  # what Stop does: the handler is cancelled mid-run
    snapshot = await actions.hub.snapshot(thread)
    assert snapshot is not None and snapshot.next == ("execute",)  # the stopped run is unfinished
    quick = json.dumps([{"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "hi"}}])
    second = await send(actions, "now summarize", thread, quick)
    chat = [str(item) for item in contents(second[-1][0])]
    assert chat[0] == "now summarize" and any(item.startswith("Said it.") for item in chat)
    done = await actions.hub.snapshot(thread)
    assert (
        done is not None
        and done.next == ()
        and [r["task"] for r in done.values["results"]] == ["summarization"]
    )


async def test_a_bad_given_plan_is_not_sent(tmp_path: Path) -> None:
    harness = make_harness(tmp_path)
    hub = Hub(graph=harness.graph, context=harness.context, settings=ServeSettings(), services=Services())
    outs = await send(Actions(hub=hub, components=GRADIO_LIKE), "go", "", plan="[{")
    assert len(outs) == 1 and "**Not sent:** the given plan is not valid JSON" in outs[0][0][-1]["content"]


async def test_a_task_with_no_model_here_shows_failed_with_the_reason(tmp_path: Path) -> None:
    others = [card for card in fake_catalog().cards if card.task != "image-to-text"]
    harness = make_harness(tmp_path, replies=["Nothing could run."], catalog=Catalog(tuple(others)))
    progress = TurnProgress(workspace_dir=harness.context.workspace_dir)
    plan = [{"id": 0, "task": "image-to-text", "dep": [-1], "args": {"image": "cat.png"}}]
    async for _ in stream_turn(
        harness.graph, {"messages": [("user", "caption")], "plan": plan}, {}, harness.context, progress
    ):
        pass
    shown = progress.messages(COMPONENTS, "t")
    tasks = next(m for m in shown if m.get("metadata", {}).get("title") == "Tasks")["content"]
    assert "| failed |" in tasks and "no model available" in tasks
    models = next(m for m in shown if m.get("metadata", {}).get("title") == "Models")["content"]
    assert "| image-to-text | none |" in models


def test_the_controller_choices_are_the_configured_the_installed_and_the_listed_once_each() -> None:
    installed = ["local/smollm2", "local/qwen2.5-coder-1.5b"]
    choices = controller_choices("openai/gpt-4o-mini", installed, ("openai/gpt-4o-mini", "azure/gpt4"))
    assert choices == ["openai/gpt-4o-mini", "local/smollm2", "local/qwen2.5-coder-1.5b", "azure/gpt4"]


def test_the_installed_embedded_controllers_are_found_without_loading() -> None:
    from graph.llm import installed_controllers

    assert "local/smollm2" in installed_controllers()  # the offline extra ships it
