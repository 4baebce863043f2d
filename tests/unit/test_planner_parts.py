import json

import pytest

from graph.grammar import clause_count, named_files, request_plan_schema, with_dependencies
from graph.plan import MAX_TASKS, planner_messages, unused_files
from graph.prompts import demos
from graph.respond import without_repeats
from graph.retrieval import nearest
from graph.validate import validate_plan
from tools.registry import TASKS, Modality, modality_of_literal


@pytest.mark.parametrize("demo", demos(), ids=lambda demo: demo["request"][:40])
def test_every_demo_is_a_valid_plan_using_only_files_its_request_names(demo):
    tasks = validate_plan(demo["plan"], TASKS)
    files = {path for paths in named_files(demo["request"]).values() for path in paths}
    for task in tasks:
        for value in task["args"].values():
            if modality_of_literal(value) is not Modality.TEXT:
                assert value in files


def test_demos_cover_every_task_type():
    used = {task["task"] for demo in demos() for task in demo["plan"]}
    assert used == set(TASKS)


def test_named_files_by_modality_without_trailing_punctuation():
    found = named_files("What is in 'photos/cat.png'? Then play a.wav, b.mp3 and photos/cat.png (again).")
    assert found == {Modality.IMAGE: ["photos/cat.png"], Modality.AUDIO: ["a.wav", "b.mp3"]}


@pytest.mark.parametrize(
    ("request_text", "clauses"),
    [
        ("Transcribe interview.flac for me.", 1),
        ("Transcribe meeting.wav and summarize it.", 2),
        ("What animal is in examples/cat.png? Read the answer aloud, and transcribe examples/speech.wav.", 3),
        ("", 1),
    ],
)
def test_clause_count(request_text, clauses):
    assert clause_count(request_text) == clauses


def test_request_schema_allows_only_named_files_and_earlier_references():
    schema = request_plan_schema("Caption cat.png, then read it aloud.", TASKS, MAX_TASKS)
    plans = schema["properties"]["tasks"]["anyOf"]
    assert [plan["maxItems"] for plan in plans] == [1, 2]  # two clauses
    first = {v["properties"]["task"]["const"]: v for v in schema["$defs"]["step0"]["anyOf"]}
    second = {v["properties"]["task"]["const"]: v for v in schema["$defs"]["step1"]["anyOf"]}
    assert "automatic-speech-recognition" not in first  # no audio named, nothing earlier
    assert first["image-to-text"]["properties"]["args"]["properties"]["image"] == {"enum": ["cat.png"]}
    assert second["automatic-speech-recognition"]["properties"]["args"]["properties"]["audio"] == {
        "enum": ["<GENERATED>-0"]
    }
    assert "translation" not in first  # step 0 must take the named file
    assert set(second["translation"]["properties"]["args"]["properties"]) == {"text", "target"}
    assert second["translation"]["properties"]["args"]["required"] == ["text"]
    assert all(v["properties"]["id"] == {"const": 1} for v in second.values())
    json.dumps(schema)  # plain JSON, ready for a grammar


def test_dependencies_come_from_the_references():
    tasks = [
        {"id": 0, "task": "image-to-text", "args": {"image": "cat.png"}},
        {"id": 1, "task": "summarization", "args": {"text": "<GENERATED>-0 and <GENERATED>-0"}},
    ]
    assert [task["dep"] for task in with_dependencies(tasks)] == [[-1], [0]]


def test_nearest_demos_put_the_most_similar_last():
    bank = [
        {"request": "draw a cat", "plan": []},
        {"request": "transcribe the meeting audio", "plan": []},
        {"request": "transcribe speech.wav and summarize", "plan": []},
    ]
    picked = nearest("please transcribe memo.wav and summarize it", bank, 2)
    assert [demo["request"] for demo in picked] == [
        "transcribe the meeting audio",
        "transcribe speech.wav and summarize",
    ]


def test_planner_prompt_keeps_the_fixed_part_first():
    first = planner_messages("draw a cat", [], TASKS, 0)
    second = planner_messages("transcribe a.wav", [], TASKS, 0)
    assert first[0].content == second[0].content  # the system prompt stays in llama.cpp's prefix cache
    assert first[-1].content != second[-1].content


def test_step_k_must_take_the_kth_named_file():
    schema = request_plan_schema("Transcribe a.wav. What is in b.png?", TASKS, MAX_TASKS)
    step0 = {v["properties"]["task"]["const"]: v for v in schema["$defs"]["step0"]["anyOf"]}
    step1 = {v["properties"]["task"]["const"]: v for v in schema["$defs"]["step1"]["anyOf"]}
    audio_in = {name for name, spec in TASKS.items() if "audio" in spec.args}
    assert set(step0) == audio_in and "automatic-speech-recognition" in step0
    assert step0["automatic-speech-recognition"]["properties"]["args"]["properties"]["audio"] == {
        "enum": ["a.wav"]
    }
    assert "image-classification" in step1 and "text-to-speech" not in step1
    assert step1["visual-question-answering"]["properties"]["args"]["properties"]["image"] == {
        "enum": ["b.png"]
    }


def test_unused_named_files_are_reported():
    tasks = validate_plan(
        [{"id": 0, "task": "image-classification", "dep": [-1], "args": {"image": "b.png"}}], TASKS
    )
    assert unused_files("Transcribe a.wav. What is in b.png?", tasks) == [
        "the request names a.wav, but no task uses it"
    ]


def test_repeated_sentences_are_dropped_from_answers():
    assert without_repeats("It is a cat. It is a cat.  It is  a cat. Done!") == "It is a cat. Done!"
