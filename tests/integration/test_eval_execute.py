"""`hugginggpt eval execute` end to end: TaskBench gold plans run through the real graph on tiny models.

The records come from ``tests/fixtures/taskbench_sample.jsonl`` (TaskBench's Hugging Face domain,
github.com/microsoft/JARVIS folder taskbench, MIT licence); the catalog is the tiny random models, the
runners and local backend are the real ones, and there is no controller (`NoController`).
"""

from __future__ import annotations

import argparse
import json
import wave
from pathlib import Path

import av
import pytest
from PIL import Image

from graph.context import Context
from hugginggpt.eval.cli import add_eval_parser, run_eval
from hugginggpt.eval.standins import write_standins
from tools.registry import Modality

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "taskbench_sample.jsonl"
CHOSEN = {
    "17990278": "text-to-speech",
    "15511675": "token-classification",
    "28675350": "sentence-similarity",
    "10857448": "image-segmentation -> visual-question-answering on its image",
    "26595962": "Information Retrieval, a tool we lack",
    "46330533": "tabular classification of an image: no table to give",
    "17353313": "task_nodes is not a list",
}


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hugginggpt")
    add_eval_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["eval", "execute", *argv])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    lines = [
        line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if json.loads(line)["id"] in CHOSEN
    ]
    assert len(lines) == len(CHOSEN)
    path = tmp_path / "chosen.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_gold_plans_run_on_tiny_models_and_the_rest_say_why(
    data: Path, tmp_path: Path, tiny_catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results" / "execute.jsonl"
    context = Context(catalogs=[str(tiny_catalog)], task_timeout_s=120.0)

    status = run_eval(parse("--data", str(data), "--out", str(out)), context)

    assert status == 0
    printed = capsys.readouterr().out
    overall = next(line.split() for line in printed.splitlines() if line.startswith("overall"))
    assert overall == ["overall", "7", "4", "4", "4", "0", "3"]  # n, mapped, ran, end to end, failed, not
    assert "no controller" in printed
    assert "1  no such task type: Information Retrieval" in printed
    assert "1  bad argument: tabular-classification" in printed
    assert "1  gold plan unreadable: plan" in printed
    results = {line["id"]: line for line in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert set(results) == set(CHOSEN)
    lacking = results["26595962"]
    assert not lacking["mapped"] and not lacking["ran"] and lacking["tasks"] == []
    assert lacking["cause"] == {
        "kind": "no such task type",
        "subject": "Information Retrieval",
        "detail": "no such task type here: 'Information Retrieval'",
    }
    chain = results["10857448"]
    assert chain["end_to_end"] and [task["status"] for task in chain["tasks"]] == ["done", "done"]
    assert chain["plan"][1]["args"]["image"] == "<GENERATED>-0"
    assert all(task["model"].startswith("tiny/") for task in chain["tasks"])
    assert results["17990278"]["tasks"][0]["outputs"]["audio"].endswith(".wav")


def test_a_limit_below_one_is_a_usage_error(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_eval(parse("--data", str(data), "--limit", "0"), Context()) == 2
    assert "--limit must be at least 1" in capsys.readouterr().err


def test_stand_in_inputs_are_readable_files_of_their_kind(tmp_path: Path) -> None:
    names = {
        "example.jpg": Modality.IMAGE,
        "/examples/b.png": Modality.IMAGE,
        "example.wav": Modality.AUDIO,
        "example.mp4": Modality.VIDEO,
        "table.csv": Modality.TABLE,
        "../outside.jpg": Modality.IMAGE,
    }
    written = write_standins(tmp_path, names)
    assert sorted(path.relative_to(tmp_path).as_posix() for path in written) == [
        "example.jpg",
        "example.mp4",
        "example.wav",
        "examples/b.png",
        "table.csv",
    ]
    with Image.open(tmp_path / "example.jpg") as image:
        assert image.format == "JPEG" and image.size == (320, 240)
    with wave.open(str(tmp_path / "example.wav")) as sound:  # speech (Piper), or a 1 s tone without it
        assert sound.getnchannels() == 1 and sound.getnframes() >= sound.getframerate()
    with av.open(str(tmp_path / "example.mp4")) as clip:
        assert sum(1 for _ in clip.decode(video=0)) == 8
    assert (tmp_path / "table.csv").read_text(encoding="utf-8").startswith("name,age,city")
