"""The embedded planner's model-free levers: cue words, the skeleton, chain links, leave-one-out demos."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graph.candidates import candidate_registry, cued_task_types
from graph.context import Context
from graph.plan import MAX_TASKS, nearest_demos, planner_messages
from graph.plan_repair import drop_unfit_steps, fix_modalities, long_passage, restore_long_text
from graph.skeleton import constrained_schema, link_chain, skeleton, skeleton_schema
from hugginggpt.eval import planning
from hugginggpt.eval.taskbench import HUGGINGFACE_TOOLS, GoldRecord
from tools.registry import TASKS


def _step_types(schema: dict[str, Any]) -> list[str]:
    items = schema["properties"]["tasks"]["prefixItems"]
    return [item["properties"]["task"]["const"] for item in items if "properties" in item]


def test_cues_come_in_the_order_the_request_mentions_them():
    request = "Transcribe example.wav, then translate the text and read it aloud."
    assert cued_task_types(request)[:3] == ["automatic-speech-recognition", "translation", "text-to-speech"]


def test_candidates_are_the_examples_types_and_the_cued_ones_else_everything():
    examples = [{"request": "x", "plan": [{"id": 0, "task": "summarization", "dep": [-1], "args": {}}]}]
    chosen = candidate_registry("Please caption photo.jpg", TASKS, examples)
    assert set(chosen) == {"summarization", "image-to-text"}
    assert candidate_registry("hello there", TASKS, []) == dict(TASKS)


def test_skeleton_waits_for_the_step_that_makes_its_input():
    # image-segmentation needs an image: on a text-only request it comes after text-to-image.
    steps = skeleton("Segment the picture you generate from 'a red barn'. Generate an image first.", TASKS, 6)
    assert steps.index("text-to-image") < steps.index("image-segmentation")


def test_skeleton_drops_types_whose_input_nothing_makes():
    assert "automatic-speech-recognition" not in skeleton("Transcribe the meeting please.", TASKS, 6)


def test_skeleton_schema_fixes_the_types_and_types_the_file_choices():
    schema = skeleton_schema(
        "Detect objects in a.png and estimate its depth.", TASKS, ["object-detection", "depth-estimation"]
    )
    first, second = schema["properties"]["tasks"]["prefixItems"]
    assert first["properties"]["task"] == {"const": "object-detection"}
    assert first["properties"]["args"]["properties"]["image"] == {"enum": ["a.png"]}
    # object detection makes an image: the second step may take it
    assert second["properties"]["args"]["properties"]["image"] == {"enum": ["a.png", "<GENERATED>-0"]}


def test_a_file_no_fixed_step_takes_gets_a_free_step():
    request = (
        "Transcribe examples/speech.wav and read the transcript aloud. What animal is in examples/cat.png?"
    )
    schema, steps = constrained_schema(request, TASKS, [], MAX_TASKS)
    assert steps == ["automatic-speech-recognition", "text-to-speech"]
    free = schema["properties"]["tasks"]["prefixItems"][2]["anyOf"]
    types = {variant["properties"]["task"]["const"] for variant in free}
    assert "image-classification" in types and "text-to-speech" not in types


def test_no_cue_lets_the_model_pick_from_the_examples_types():
    examples = [{"request": "x", "plan": [{"id": 0, "task": "text-generation", "dep": [-1], "args": {}}]}]
    schema, steps = constrained_schema("Tell me something nice about 'tea'.", TASKS, examples, MAX_TASKS)
    assert steps == []
    variants = schema["$defs"]["step0"]["anyOf"]
    assert {variant["properties"]["task"]["const"] for variant in variants} == {"text-generation"}


def test_link_chain_links_a_step_that_uses_no_earlier_output():
    tasks = [
        {"id": 0, "task": "image-to-text", "args": {"image": "a.png"}},
        {"id": 1, "task": "summarization", "args": {"text": "a story of my own"}},
        {"id": 2, "task": "text-to-speech", "args": {"text": "<GENERATED>-0"}},
    ]
    linked = link_chain(tasks, TASKS)
    assert linked[1]["args"] == {"text": "<GENERATED>-0"}
    assert linked[2]["args"] == {"text": "<GENERATED>-0"}  # it had a reference already
    assert linked[0]["args"] == {"image": "a.png"}


def test_a_demo_pool_replaces_the_shipped_demos_and_the_system_prompt_stays():
    pool = [
        {
            "request": "Turn 'hi' into speech.",
            "plan": [{"id": 0, "task": "text-to-speech", "dep": [-1], "args": {"text": "hi"}}],
        }
    ]
    assert nearest_demos("say 'hello' as speech", TASKS, pool) == pool
    with_pool = planner_messages("say 'hello'", [], TASKS, 0, pool)
    without = planner_messages("say 'hello'", [], TASKS, 0)
    assert with_pool[0].content == without[0].content
    assert "Turn 'hi' into speech." in with_pool[1].content


def test_the_eval_offers_the_benchmarks_tools_and_never_the_scored_request_as_a_demo(monkeypatch):
    records = [
        GoldRecord(
            str(n),
            f"Please say 'line {n}' aloud.",
            ({"task": "Text-to-Speech", "arguments": [f"line {n}"]},),
            "single",
            n,
        )
        for n in range(3)
    ]
    seen: list[tuple[str, list[str], tuple[str, ...]]] = []

    async def fake_make_plan(request, history, llm, context, cache, names, pool):
        seen.append((request, [demo["request"] for demo in pool], tuple(names)))
        return [], 1, "no plan"

    monkeypatch.setattr(planning, "make_plan", fake_make_plan)
    resources: Any = type("R", (), {"llm": None, "structured": {}})()
    asyncio.run(planning.plan_records(records, resources, Context(), HUGGINGFACE_TOOLS))
    assert len(seen) == 3
    for request, demos, names in seen:
        assert request not in demos and len(demos) == 2
        assert len(names) == 23 and "text-to-speech" in names and "visual-question-answering" in names


@pytest.mark.parametrize("tool", sorted(HUGGINGFACE_TOOLS))
def test_every_benchmark_tool_is_offered(tool):
    assert tool.lower().replace(" ", "-") in planning.benchmark_task_names(HUGGINGFACE_TOOLS)


def test_a_file_name_in_a_text_argument_becomes_the_earlier_text_output():
    request = "I have example.jpg. Make a video of what it shows."
    tasks = [
        {"id": 0, "task": "image-to-text", "args": {"image": "example.jpg"}},
        {"id": 1, "task": "text-to-video", "args": {"text": "example.jpg"}},
    ]
    fixed = fix_modalities(request, tasks, TASKS)
    assert fixed[1]["args"] == {"text": "<GENERATED>-0"}
    assert fixed[0] == tasks[0]


def test_a_file_name_in_a_text_argument_with_no_earlier_text_takes_the_quoted_text():
    tasks = [{"id": 0, "task": "text-to-video", "args": {"text": "a.png"}}]
    fixed = fix_modalities("Turn 'a calm lake' into a video, like a.png.", tasks, TASKS)
    assert fixed[0]["args"] == {"text": "a calm lake"}
    unquoted = fix_modalities("Make a video of a.png.", tasks, TASKS)
    assert unquoted[0]["args"] == {"text": "Make a video of a.png."}


def test_a_reference_of_the_wrong_modality_becomes_the_requests_file():
    tasks = [
        {"id": 0, "task": "sentence-similarity", "args": {"text": "a", "other": "b"}},
        {"id": 1, "task": "automatic-speech-recognition", "args": {"audio": "<GENERATED>-0"}},
    ]
    fixed = fix_modalities("Hear example.wav, compare 'a' and 'b'.", tasks, TASKS)
    assert fixed[1]["args"] == {"audio": "example.wav"}


def test_fitting_arguments_are_left_alone():
    tasks = [
        {"id": 0, "task": "object-detection", "args": {"image": "x.jpg"}},
        {"id": 1, "task": "summarization", "args": {"text": "<GENERATED>-0"}},  # detection also gives text
    ]
    assert fix_modalities("Detect objects in x.jpg and summarize.", tasks, TASKS) == tasks


def test_steps_that_still_do_not_fit_are_dropped_and_the_rest_renumbered():
    tasks = [
        {"id": 0, "task": "sentence-similarity", "args": {"text": "a", "other": "b"}},
        {"id": 1, "task": "automatic-speech-recognition", "args": {"audio": "<GENERATED>-0"}},
        {"id": 2, "task": "summarization", "args": {"text": "<GENERATED>-1"}},  # needs the dropped step
        {"id": 3, "task": "text-to-speech", "args": {"text": "<GENERATED>-0"}},
        {"id": 4, "task": "translation", "args": {"text": "say <GENERATED>-4"}},  # its own output
    ]
    kept = drop_unfit_steps("Compare 'a' and 'b', then say it.", tasks, TASKS)
    assert [(task["id"], task["task"], task["args"]) for task in kept] == [
        (0, "sentence-similarity", {"text": "a", "other": "b"}),
        (1, "text-to-speech", {"text": "<GENERATED>-0"}),
    ]


LONG = " ".join(f"The committee met on day {i} and agreed on item {i}." for i in range(40))


def test_a_passage_too_long_to_decode_is_restored_into_the_text_argument():
    request = f"Summarize this: {LONG}"
    assert long_passage(request) == LONG and long_passage("Summarize this: short text.") is None
    invented = [{"id": 0, "task": "summarization", "args": {"text": "The train leaves at nine."}}]
    cut = [{"id": 0, "task": "summarization", "args": {"text": LONG[:300]}}]
    for tasks in (invented, cut):
        assert restore_long_text(request, tasks, TASKS)[0]["args"]["text"] == LONG
    chained = [*cut, {"id": 1, "task": "translation", "args": {"text": "<GENERATED>-0"}}]
    assert restore_long_text(request, chained, TASKS)[1]["args"] == {"text": "<GENERATED>-0"}


def test_a_short_request_a_short_quote_or_a_quoted_question_is_left_as_decoded():
    short = [{"id": 0, "task": "summarization", "args": {"text": "something else"}}]
    assert restore_long_text("Summarize this: a short note.", short, TASKS) == short
    scenario = f"Imagine this scenario: I need an image of the text 'Hello World'. {LONG}"
    quote = [{"id": 0, "task": "text-to-image", "args": {"text": "Hello World"}}]
    assert restore_long_text(scenario, quote, TASKS) == quote  # in the passage, but a quote, not a cut copy
    document = " ".join(f"Fact {i} is true." for i in range(15))  # under 300 characters: decodable whole
    asked = f"I've read a document: '{document}' Can't you tell me which fact comes first? " + "Thanks! " * 10
    whole = [{"id": 0, "task": "question-answering", "args": {"text": document, "context": document}}]
    assert restore_long_text(asked, whole, TASKS) == whole
    request = f'Answer "who met?" from "{LONG}"'
    qa = [{"id": 0, "task": "question-answering", "args": {"text": "who met?", "context": LONG[:200]}}]
    assert restore_long_text(request, qa, TASKS)[0]["args"] == {"text": "who met?", "context": LONG}
