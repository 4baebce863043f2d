"""`hugginggpt eval plan` end to end, on a scripted controller and the TaskBench slice in tests/fixtures.

``tests/fixtures/taskbench_sample.jsonl``: the first 30 records of the project's TaskBench sample
(TaskBench's Hugging Face domain, github.com/microsoft/JARVIS folder taskbench, MIT licence).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import pytest

from graph.context import Context
from graph.services import Resources
from hugginggpt.eval.cli import add_eval_parser, run_eval
from tests.fakes import fake_resources, plan_reply

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "taskbench_sample.jsonl"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hugginggpt")
    add_eval_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["eval", "plan", *argv])


def scripted(monkeypatch: pytest.MonkeyPatch, *replies: Any) -> None:
    resources = fake_resources(replies)
    monkeypatch.setattr(Resources, "build", classmethod(lambda cls, context: resources))


def table_row(output: str, name: str) -> list[str]:
    for line in output.splitlines():
        cells = line.split()
        if cells and cells[0] == name:
            return cells
    raise AssertionError(f"no {name} row in:\n{output}")


def test_plans_scores_and_writes_predictions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first request gets its gold plan; the other four get "Done." (not a plan) on every attempt.
    gold_first = {
        "id": 0,
        "task": "text-to-speech",
        "dep": [-1],
        "args": {"text": "Hello, welcome to the AI world!"},
    }
    scripted(monkeypatch, plan_reply(gold_first))
    out = tmp_path / "predictions" / "smoke.jsonl"

    status = run_eval(
        parse("--data", str(SAMPLE), "--limit", "5", "--out", str(out)), Context(max_plan_retries=1)
    )

    assert status == 0
    captured = capsys.readouterr()
    assert "planned 5/5" in captured.err
    for name in ("overall", "single", "chain", "dag"):
        table_row(captured.out, name)
    overall = table_row(captured.out, "overall")
    assert overall[1] == "5" and overall[6] == "20.0"  # n, valid %
    assert overall[7] == "0.80"  # repairs: 4 failed requests x 1 retry / 5
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 5 and [line["id"] for line in lines][:2] == ["17990278", "15511675"]
    assert lines[0]["result"]["task_nodes"] == [
        {"task": "Text-to-Speech", "arguments": ["Hello, welcome to the AI world!"]}
    ]
    assert lines[1]["result"]["task_nodes"] == [] and lines[1]["error"]
    assert not list(out.parent.glob(".*"))  # no temporary file left behind


def test_nearest_baseline_runs_without_a_controller_in_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_controller(cls: Any, context: Context) -> Resources:
        raise AssertionError("the baseline must not build a controller")

    monkeypatch.setattr(Resources, "build", classmethod(no_controller))
    out = tmp_path / "nearest.jsonl"
    started = time.perf_counter()

    status = run_eval(
        parse("--data", str(SAMPLE), "--baseline", "nearest", "--skip-planner", "--out", str(out)), Context()
    )

    assert status == 0 and time.perf_counter() - started < 10
    output = capsys.readouterr().out
    assert "baseline nearest" in output and table_row(output, "overall")[1] == "29"
    predictions = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(predictions) == 29 and all(p["copied_from"] != p["id"] for p in predictions)


def test_baseline_beside_the_planner_writes_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scripted(monkeypatch)
    out = tmp_path / "run.jsonl"

    status = run_eval(
        parse("--data", str(SAMPLE), "--limit", "2", "--out", str(out), "--baseline", "nearest"),
        Context(max_plan_retries=0),
    )

    assert status == 0
    output = capsys.readouterr().out
    assert "planner" in output and "baseline nearest" in output
    assert len(out.read_text().splitlines()) == 2
    assert len((tmp_path / "run.nearest.jsonl").read_text().splitlines()) == 2


def test_a_bad_data_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": "1", "instruction": "hi", "task_nodes": []}\n{oops\n')

    assert run_eval(parse("--data", str(data), "--baseline", "nearest", "--skip-planner"), Context()) == 2
    assert f"{data}:2: not JSON" in capsys.readouterr().err
    assert run_eval(parse("--data", str(SAMPLE), "--skip-planner"), Context()) == 2
