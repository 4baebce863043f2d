"""The README's main job, offline: the embedded controller plans, real packaged models run, and it answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graph.llm import DEFAULT_CONTROLLER, installed_controllers
from hugginggpt import cli
from hugginggpt.examples import write_examples
from tests.integration.test_llm import embedded

pytestmark = [
    pytest.mark.slow,
    pytest.mark.embedded,
    pytest.mark.skipif(
        DEFAULT_CONTROLLER not in installed_controllers(),
        reason=f"the default controller {DEFAULT_CONTROLLER}'s model is not installed (the 'qwen' extra)",
    ),
]

REQUEST = "Transcribe examples/speech.wav and read the transcript aloud. What animal is in examples/cat.png?"


@embedded
def test_main_command_runs_offline_and_prints_plan_models_results_and_answer(tmp_path, capsys, monkeypatch):
    for name in ("HUGGINGGPT_CONTROLLER", "HUGGINGGPT_CATALOGS", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    write_examples(tmp_path / "examples")
    workspace = tmp_path / "workspace"
    status = cli.main(["--workspace", str(workspace), "--inputs-dir", str(tmp_path), "run", REQUEST])
    out = capsys.readouterr().out
    assert status == 0, out
    plan = re.search(r"\[plan\] (\d+) task\(s\), \d+ planning call", out)
    assert plan and int(plan.group(1)) >= 1, out
    # the task types a person expects, and the voice reads the transcript, not a sentence of its own
    steps = dict(re.findall(r"^  (\d+)\. (\S+) ", out, flags=re.MULTILINE))
    assert sorted(steps.values()) == [
        "automatic-speech-recognition",
        "image-classification",
        "text-to-speech",
    ]
    asr = next(step for step, task in steps.items() if task == "automatic-speech-recognition")
    assert re.search(rf'text-to-speech {{"text": "<GENERATED>-{asr}"}}', out), out
    assert re.search(r"\[select\] task 0 \S+ -> \S+", out), out  # a model chosen for each task
    assert re.search(r"\[execute\] task \d+ \S+ done in", out), out  # real results
    assert "[time] plan" in out and "respond" in out
    answer = out.split("\n\n", 1)[1]
    assert answer.strip() and "Tasks:" in answer
    # every file the answer lists was produced in this run's workspace
    for path in re.findall(r"-> (\S+\.(?:wav|png))", answer):
        assert Path(path).is_file() and workspace in Path(path).parents
