"""TaskBench scoring, name mapping, plan conversion and the nearest-request baseline.

``tests/fixtures/taskbench_sample.jsonl`` is the first 30 records of the project's TaskBench sample
(TaskBench, github.com/microsoft/JARVIS folder taskbench/data_huggingface, MIT licence); it holds the
sample's odd records: a number as argument, ``task_nodes`` as an object (skipped), argument objects.
The hand-computed figures follow TaskBench's evaluate.py (resource dependencies).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from graph.state import Task
from hugginggpt.eval.baseline import nearest_baseline, nearest_other
from hugginggpt.eval.scoring import (
    METRICS,
    Outcome,
    content_type,
    parse_plan,
    percentile,
    score_request,
    summarize,
    summarize_by_shape,
)
from hugginggpt.eval.taskbench import (
    HUGGINGFACE_TOOLS,
    GoldRecord,
    our_name,
    plan_to_taskbench,
    read_records,
    shape_of,
    taskbench_name,
)
from tools.artifacts import InputError
from tools.registry import TASKS

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "taskbench_sample.jsonl"
TOOLS = HUGGINGFACE_TOOLS

GOLD: list[dict[str, Any]] = [
    {"task": "Image-to-Text", "arguments": ["example.jpg"]},
    {"task": "Text-to-Speech", "arguments": ["<node-0>"]},
]


def f1s(gold: list[dict[str, Any]], predicted: list[dict[str, Any]]) -> dict[str, float | None]:
    score = score_request(gold, predicted, TOOLS)
    values = {metric: score.f1(metric) for metric in METRICS}
    return {metric: None if value is None else round(value, 1) for metric, value in values.items()}


def test_gold_against_itself_scores_100_everywhere() -> None:
    records = read_records(SAMPLE)
    outcomes = [Outcome(r.shape, score_request(r.nodes, r.nodes, TOOLS)) for r in records]
    summaries = summarize_by_shape(outcomes)
    assert summaries["overall"].n == len(records) == 29
    assert summaries["single"].f1["link"] is None  # no link to score in one-node plans
    for name, summary in summaries.items():
        for metric in METRICS:
            if summary.totals[metric].tp + summary.totals[metric].fn:
                assert summary.f1[metric] == pytest.approx(100.0), (name, metric)
    assert summaries["overall"].f1["link"] == pytest.approx(100.0)


def test_a_missing_node() -> None:
    assert f1s(GOLD, GOLD[:1]) == {"node": 66.7, "link": 0.0, "arg_name": 66.7, "arg_value": 66.7}


def test_a_wrong_link() -> None:
    predicted = [GOLD[0], {"task": "Text-to-Speech", "arguments": ["hello"]}]
    assert f1s(GOLD, predicted) == {"node": 100.0, "link": 0.0, "arg_name": 100.0, "arg_value": 50.0}


def test_a_wrong_argument_value() -> None:
    predicted = [{"task": "Image-to-Text", "arguments": ["other.jpg"]}, GOLD[1]]
    assert f1s(GOLD, predicted) == {"node": 100.0, "link": 100.0, "arg_name": 100.0, "arg_value": 50.0}


def test_an_empty_prediction_scores_zero() -> None:
    assert f1s(GOLD, []) == {"node": 0.0, "link": 0.0, "arg_name": 0.0, "arg_value": 0.0}


def test_node_f1_ignores_tools_outside_the_benchmark_but_arguments_count_them() -> None:
    gold = [{"task": "Image-to-Text", "arguments": ["example.jpg"]}]
    predicted = [*gold, {"task": "canny-control", "arguments": ["example.jpg"]}]
    assert f1s(gold, predicted) == {"node": 100.0, "link": None, "arg_name": 66.7, "arg_value": 66.7}


def test_counts_are_pooled_over_requests() -> None:
    first = Outcome("chain", score_request(GOLD, GOLD, TOOLS))
    second = Outcome("chain", score_request(GOLD, [], TOOLS))
    summary = summarize([first, second])
    assert summary.totals["node"].tp == 2 and summary.totals["node"].fn == 2
    assert summary.f1["node"] == pytest.approx(100 * 4 / 6)


def test_references_arguments_and_types_are_read_as_taskbench_reads_them() -> None:
    nodes: list[dict[str, Any]] = [
        {"task": "Translation", "arguments": ["Guten Tag"]},
        {"task": "Visual_Question_Answering", "arguments": ["'photo.png'", {"from": "Translation"}]},
        {"task": "Text-to-Speech", "arguments": ["<node-2>", "<node-0_>", "<node-1>", ["a", "b"]]},
    ]
    parsed = parse_plan(nodes, TOOLS)
    assert parsed.names == ("Translation", "Visual Question Answering", "Text-to-Speech")
    assert parsed.links == (("Visual Question Answering", "Text-to-Speech"),)
    # <node-2> points at its own node (dropped); <node-0_> is unreadable: it repeats the previous argument
    assert parsed.arguments[1] == (("image", "'photo.png'"), ("text", "Translation"))
    assert parsed.arguments[2] == (
        ("text", "Translation"),
        ("text", "Visual Question Answering"),
        ("text", "a b"),
    )


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("example.jpg", "image"),
        ("'x.png'", "image"),
        ("a.wav", "audio"),
        ("clip.mp4", "video"),
        ("photo.JPG", "text"),  # TaskBench matches lower-case extensions only
        ("hi", "text"),
    ],
)
def test_content_type(value: str, kind: str) -> None:
    assert content_type(value) == kind


def test_names_map_both_ways() -> None:
    assert our_name("Image-to-Text") == "image-to-text"
    assert our_name("Automatic Speech Recognition") == "automatic-speech-recognition"
    assert our_name("Audio Enhancement") == "Audio Enhancement"  # not ours: kept, so it scores as a miss
    assert taskbench_name("visual-question-answering") == "Visual Question Answering"
    assert taskbench_name("canny-control") == "canny-control"
    for tool in TOOLS:
        assert our_name(tool) in TASKS
        assert taskbench_name(our_name(tool)) == tool


def test_our_plan_becomes_taskbench_nodes_with_node_references() -> None:
    tasks: list[Task] = [
        {"id": 3, "task": "image-to-text", "dep": [], "args": {"image": "example.jpg"}},
        {"id": 7, "task": "translation", "dep": [3], "args": {"text": "<GENERATED>-3", "target": "French"}},
        {"id": 9, "task": "text-to-speech", "dep": [7], "args": {"text": "Say <GENERATED>-7 slowly"}},
    ]
    converted = plan_to_taskbench(tasks)
    assert converted["task_nodes"] == [
        {"task": "Image-to-Text", "arguments": ["example.jpg"]},
        {"task": "Translation", "arguments": ["<node-0>", "French"]},
        {"task": "Text-to-Speech", "arguments": ["Say <node-1> slowly"]},
    ]
    assert converted["task_links"] == [
        {"source": "Image-to-Text", "target": "Translation"},
        {"source": "Translation", "target": "Text-to-Speech"},
    ]
    assert parse_plan(converted["task_nodes"], TOOLS).links == (
        ("Image-to-Text", "Translation"),
        ("Translation", "Text-to-Speech"),
    )


def test_the_baseline_never_copies_the_request_itself() -> None:
    records = read_records(SAMPLE)
    twin = GoldRecord("twin", records[0].instruction, records[1].nodes, "single", 99)
    pool = [*records, twin]
    for index, record in enumerate(pool):
        assert nearest_other(pool, index) is not record
    assert nearest_other(pool, 0) is twin  # the same words elsewhere in the file are fair game
    outcomes, predictions = nearest_baseline(records, TOOLS, count=5)
    assert len(outcomes) == len(predictions) == 5
    assert all(p["copied_from"] != p["id"] for p in predictions)


def test_the_baseline_needs_another_record() -> None:
    with pytest.raises(ValueError, match="at least two"):
        nearest_other(read_records(SAMPLE)[:1], 0)


def test_records_are_read_and_unparsable_gold_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    records = read_records(SAMPLE)
    assert "17353313" not in {r.id for r in records}  # its task_nodes is an object: TaskBench skips it
    assert "task_nodes is not a list" in caplog.text and ":24:" in caplog.text
    assert {r.shape for r in records} == {"single", "chain", "dag"}
    assert len(read_records(SAMPLE, limit=3)) == 3


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"id": "x", "task_nodes": []}), "no 'instruction'"),
        (json.dumps({"id": "a", "instruction": "again", "task_nodes": []}), "used twice"),
    ],
)
def test_a_bad_record_names_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps({"id": "a", "instruction": "hi", "task_nodes": []}) + "\n" + line + "\n")
    with pytest.raises(InputError, match=message) as raised:
        read_records(data)
    assert f"{data}:2" in str(raised.value)


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read TaskBench data"):
        read_records(tmp_path / "absent.jsonl")


def test_shapes_are_read_off_the_links_when_a_record_has_no_type() -> None:
    assert shape_of(1, []) == "single"
    assert shape_of(3, [(0, 1), (1, 2)]) == "chain"
    assert shape_of(3, [(0, 1), (0, 2)]) == "dag"
    assert shape_of(3, [(0, 1)]) == "dag"


def test_percentile_interpolates() -> None:
    assert percentile([1.0], 90) == 1.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([float(n) for n in range(11)], 90) == pytest.approx(9.0)
