"""The text-label, chat, table and audio-label runners on tiny models: types, files, errors, batches."""

from __future__ import annotations

import math
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.fixtures.tiny_text_audio import OPTIONS, RUNNER_NAMES, SPECS, TABLE_COLUMNS
from tools.artifacts import InputError, Workspace, encode_wav
from tools.models import ModelCard
from tools.registry import TASKS
from tools.runners import audio_labels, chat, tables, tabular, text_labels
from tools.runners.base import Call, LoadOptions, Outcome, Runner, TaskOutput

MODULES = (text_labels, chat, tables, tabular, audio_labels)
RUNNERS: dict[str, Runner] = {runner.name: runner for module in MODULES for runner in module.RUNNERS}


@dataclass(frozen=True)
class Tiny:
    """The tiny models, loaded once per module, and how a test calls them."""

    cards: dict[str, ModelCard]
    loaded: dict[str, Any]

    def call(self, model_id: str, ws: Workspace, **args: str) -> Call:
        card = self.cards[model_id]
        return Call(args=args, workspace=ws, stem=f"t-{card.task}", options=dict(card.options))

    def forward(self, model_id: str, calls: list[Call]) -> list[Outcome]:
        return RUNNERS[self.cards[model_id].runner_name].forward(self.loaded[model_id], calls)

    def run(self, model_id: str, ws: Workspace, **args: str) -> TaskOutput:
        output = RUNNERS[self.cards[model_id].runner_name].run(
            self.loaded[model_id], self.call(model_id, ws, **args)
        )
        assert isinstance(output, TaskOutput)
        return output

    def batch_matches_alone(self, model_id: str, ws: Workspace, args: list[dict[str, str]]) -> list[Outcome]:
        """Run the calls as one batch (a bad one among them) and each alone: the good ones agree."""
        calls = [self.call(model_id, ws, **arg) for arg in args]
        batch = self.forward(model_id, calls)
        assert len(batch) == len(calls)
        for call, outcome in zip(calls, batch, strict=True):
            (alone,) = self.forward(model_id, [call])
            if isinstance(alone, Exception):
                assert type(outcome) is type(alone)
                continue
            assert isinstance(outcome, TaskOutput) and outcome.data.keys() == alone.data.keys()
            batched, single = _scores(outcome.data), _scores(alone.data)
            assert [key for key, _ in batched] == [key for key, _ in single]
            assert [score for _, score in batched] == pytest.approx([score for _, score in single], abs=1e-4)
        return batch


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    import torch

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("tiny-text-audio")
    cards: dict[str, ModelCard] = {}
    for model_id, (task, downloads, likes, description, build) in SPECS.items():
        folder = root / model_id.split("/", 1)[1]
        build(folder)
        cards[model_id] = ModelCard(
            id=model_id,
            task=task,
            downloads=downloads,
            likes=likes,
            description=description,
            source="path",
            path=str(folder),
            runner=RUNNER_NAMES.get(model_id, ""),
            options=dict(OPTIONS.get(task, {})),
        )
    loaded = {
        model_id: RUNNERS[card.runner_name].load(card, LoadOptions()) for model_id, card in cards.items()
    }
    return Tiny(cards, loaded)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "people.csv").write_text("name,height,weight\nann,1.2,-0.3\nbob,-2.0,-1.5\ncid,0.1,0.4\n")
    (inputs / "semicolons.csv").write_text("height;weight\n-2.0;-1.5\n")
    (inputs / "ragged.csv").write_text("a,b\n1,2,3\n")
    (inputs / "other.csv").write_text("name,age\nann,3\n")
    (inputs / "words.csv").write_text("height,weight\ntall,heavy\n")
    for name, seconds in (("short.wav", 0.25), ("long.wav", 0.4), ("tone.wav", 0.3)):
        rate = 22050  # not the models' 16 kHz, so loading resamples
        t = np.arange(int(rate * seconds)) / rate
        (inputs / name).write_bytes(encode_wav(0.3 * np.sin(2 * math.pi * 440.0 * t), rate))
    return Workspace(tmp_path / "ws", base=inputs)


def _scores(data: dict[str, Any]) -> list[tuple[Any, float]]:
    """Return (key, score) pairs, sorted by key (near-ties may swap places between a batch and a lone run)."""
    if "labels" in data:
        return sorted((item["label"], item["score"]) for item in data["labels"])
    if "masks" in data:
        return sorted((item["token"], item["score"]) for mask in data["masks"] for item in mask)
    return [(data["generated"], 0.0)]


def test_runner_names_cover_the_tasks() -> None:
    tasks = {card_task for card_task, *_ in SPECS.values()}
    assert {TASKS[task].default_runner for task in tasks} <= set(RUNNERS)
    assert TASKS["tabular-classification"].default_runner == "sklearn/tabular-classification"


def test_import_does_not_import_torch() -> None:
    modules = ", ".join(f"tools.runners.{module.__name__.rsplit('.', 1)[1]}" for module in MODULES)
    code = f"import sys, {modules}; assert not {{'torch', 'transformers'}} & set(sys.modules), 'heavy import'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_text_classification_batch(tiny: Tiny, workspace: Workspace) -> None:
    args = [{"text": "the cat is happy"}, {"text": "   "}, {"text": "what a dog, what a long text " * 3}]
    batch = tiny.batch_matches_alone("tiny/bert-text-classification", workspace, args)
    assert isinstance(batch[1], InputError) and "text" in str(batch[1])
    first = batch[0]
    assert isinstance(first, TaskOutput) and isinstance(first.text, str)
    labels = first.data["labels"]
    assert {item["label"] for item in labels} == {"negative", "positive"}
    assert sum(item["score"] for item in labels) == pytest.approx(1.0, abs=1e-5)
    assert first.text == ", ".join(f"{item['label']} ({item['score']:.2f})" for item in labels)


def test_token_classification(tiny: Tiny, workspace: Workspace) -> None:
    text = "ann is in paris"
    out = tiny.run("tiny/bert-token-classification", workspace, text=text)
    assert isinstance(out.text, str) and out.text
    for entity in out.data["entities"]:
        assert set(entity) == {"entity", "word", "score", "start", "end"}
        assert entity["word"] == text[entity["start"] : entity["end"]]
        assert entity["entity"] in {"PER", "LOC"} and 0.0 <= entity["score"] <= 1.0
    args = [{"text": text}, {"text": ""}, {"text": "the dog"}]
    batch = tiny.forward(
        "tiny/bert-token-classification",
        [tiny.call("tiny/bert-token-classification", workspace, **a) for a in args],
    )
    assert isinstance(batch[1], InputError)
    assert isinstance(batch[0], TaskOutput) and batch[0].data == out.data


def test_zero_shot_classification(tiny: Tiny, workspace: Workspace) -> None:
    args = [
        {"text": "the cat sat", "labels": "animals, cars , food"},
        {"text": "the dog ran", "labels": " , "},
        {"text": "a red car", "labels": "cars,sport"},
    ]
    batch = tiny.batch_matches_alone("tiny/bert-zero-shot-classification", workspace, args)
    assert isinstance(batch[1], InputError) and "labels" in str(batch[1])
    first = batch[0]
    assert isinstance(first, TaskOutput)
    assert {item["label"] for item in first.data["labels"]} == {"animals", "cars", "food"}
    assert sum(item["score"] for item in first.data["labels"]) == pytest.approx(1.0, abs=1e-5)
    assert first.data["multi_label"] is False
    alone = tiny.run("tiny/bert-zero-shot-classification", workspace, text="a cat", labels="animals")
    assert alone.data["multi_label"] is True and 0.0 <= alone.data["labels"][0]["score"] <= 1.0


def test_fill_mask(tiny: Tiny, workspace: Workspace) -> None:
    args = [{"text": "the cat is [MASK]."}, {"text": "no mask here"}, {"text": "the <mask> is a dog"}]
    batch = tiny.batch_matches_alone("tiny/bert-fill-mask", workspace, args)
    assert isinstance(batch[1], InputError) and "mask" in str(batch[1])
    first = batch[0]
    assert isinstance(first, TaskOutput) and isinstance(first.text, str)
    (mask,) = first.data["masks"]
    assert len(mask) == 3 and all(0.0 <= item["score"] <= 1.0 for item in mask)
    sequence = first.data["sequence"]
    assert "[MASK]" not in sequence and sequence.startswith("the cat is") and sequence.endswith(".")
    assert first.text.startswith(sequence)


def test_text2text_generation(tiny: Tiny, workspace: Workspace) -> None:
    args = [{"text": "what is a cat?"}, {"text": ""}, {"text": "the dog is white and the cat is black"}]
    batch = tiny.batch_matches_alone("tiny/bart-text2text-generation", workspace, args)
    assert isinstance(batch[1], InputError)
    assert isinstance(batch[0], TaskOutput) and isinstance(batch[0].text, str)


def test_conversational(tiny: Tiny, workspace: Workspace) -> None:
    card = tiny.cards["tiny/gpt2-conversational"]
    history = (("user", "hi"), ("assistant", "hello"), ("tool", "ignored role"))
    call = Call({"text": "how are you?"}, workspace, "t-chat", dict(card.options), history)
    out = RUNNERS[card.runner_name].run(tiny.loaded["tiny/gpt2-conversational"], call)
    assert isinstance(out.text, str) and out.data["reply"] == out.text and out.data["turns"] == 4
    messages = chat.chat_messages(call)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "user"]
    long_history = tuple(("user", "a long message about cats " * 4) for _ in range(12))
    long_call = Call({"text": "and dogs?"}, workspace, "t-chat", dict(card.options), long_history)
    trimmed = RUNNERS[card.runner_name].run(tiny.loaded["tiny/gpt2-conversational"], long_call)
    assert 1 <= trimmed.data["turns"] < 13  # the oldest turns were dropped to fit 128 tokens
    with pytest.raises(InputError):
        RUNNERS[card.runner_name].run(
            tiny.loaded["tiny/gpt2-conversational"],
            tiny.call("tiny/gpt2-conversational", workspace, text=" "),
        )


def test_conversational_without_a_template_uses_a_transcript() -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert chat._plain_transcript(messages) == "System: be brief\nUser: hi\nAssistant:"


def test_zero_shot_long_text_keeps_the_hypothesis(tiny: Tiny, workspace: Workspace) -> None:
    model_id = "tiny/bert-zero-shot-classification"
    call = tiny.call(model_id, workspace, text="a cat " * 200, labels="animals,cars")
    labels, pairs = text_labels._zero_shot_item(tiny.loaded[model_id], call)
    tokenizer = tiny.loaded[model_id].tokenizer
    assert labels == ["animals", "cars"] and all(len(pair["input_ids"]) == 128 for pair in pairs)
    assert tokenizer.decode(pairs[1]["input_ids"]).endswith("this is about cars. [SEP]")


def test_table_question_answering(tiny: Tiny, workspace: Workspace) -> None:
    model_id = "tiny/bart-table-question-answering"
    out = tiny.run(model_id, workspace, text="who is tallest?", table="people.csv")
    assert isinstance(out.text, str) and out.data["answer"] == out.text and out.data["truncated"] is False
    for table, problem in (("absent.csv", "not found"), ("ragged.csv", "row 2")):
        with pytest.raises(InputError, match=problem):
            tiny.run(model_id, workspace, text="who?", table=table)
    with pytest.raises(InputError, match="question"):
        tiny.run(model_id, workspace, text="", table="people.csv")


def test_linearize() -> None:
    table = tables.Table(["name", "age"], [["ann", "3"], ["bob", ""]])
    assert tables.linearize(table) == "col : name | age row 1 : ann | 3 row 2 : bob | "


@pytest.mark.skipif("tiny/tapas-table-question-answering" not in SPECS, reason="TAPAS needs pandas")
def test_tapas_table_question_answering(tiny: Tiny, workspace: Workspace) -> None:
    out = tiny.run("tiny/tapas-table-question-answering", workspace, text="who?", table="people.csv")
    assert isinstance(out.text, str) and set(out.data) == {"answer", "cells", "coordinates", "aggregator"}


def test_tapas_without_pandas_says_so(tmp_path: Path) -> None:
    from transformers import TapasConfig

    if "tiny/tapas-table-question-answering" in SPECS:
        pytest.skip("pandas is installed")
    TapasConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=1).save_pretrained(tmp_path)
    card = ModelCard(
        id="google/tapas-tiny", task="table-question-answering", source="path", path=str(tmp_path)
    )
    with pytest.raises(RuntimeError, match="pandas"):
        tables.load_table_question_answering(card, LoadOptions())


def test_tabular_classification(tiny: Tiny, workspace: Workspace) -> None:
    model_id = "tiny/sklearn-tabular-classification"
    assert tiny.loaded[model_id].columns == TABLE_COLUMNS
    out = tiny.run(model_id, workspace, table="people.csv")
    predictions = out.data["predictions"]
    assert [p["row"] for p in predictions] == [1, 2, 3]
    assert all(p["label"] in {"tall", "short"} and 0.5 <= p["score"] <= 1.0 for p in predictions)
    assert predictions[1]["label"] == "short"  # height -2.0, weight -1.5: a trained model, not random
    assert isinstance(out.text, str) and out.text.startswith("3 rows: 1: ")
    semicolons = tiny.run(model_id, workspace, table="semicolons.csv")
    assert semicolons.data["predictions"][0]["label"] == "short"
    with pytest.raises(InputError, match="height, weight"):
        tiny.run(model_id, workspace, table="other.csv")
    with pytest.raises(InputError):
        tiny.run(model_id, workspace, table="words.csv")


def test_audio_classification_batch(tiny: Tiny, workspace: Workspace) -> None:
    args = [{"audio": "short.wav"}, {"audio": "absent.wav"}, {"audio": "long.wav"}, {"audio": "tone.wav"}]
    batch = tiny.batch_matches_alone("tiny/wav2vec2-audio-classification", workspace, args)
    assert isinstance(batch[1], InputError)
    first = batch[0]
    assert isinstance(first, TaskOutput)
    assert {item["label"] for item in first.data["labels"]} == {"speech", "music", "dog bark"}


def test_audio_to_audio(tiny: Tiny, workspace: Workspace) -> None:
    out = tiny.run("tiny/speecht5-audio-to-audio", workspace, audio="short.wav")
    assert out.audio is not None and Path(out.audio).parent == workspace.root and out.audio.endswith(".wav")
    with wave.open(out.audio, "rb") as wav:
        assert wav.getframerate() == 16000 and wav.getnchannels() == 1 and wav.getnframes() > 0
    assert out.data["sampling_rate"] == 16000 and out.data["seconds"] > 0
    with pytest.raises(InputError):
        tiny.run("tiny/speecht5-audio-to-audio", workspace, audio="absent.wav")


def test_audio_to_audio_refuses_other_models(tiny: Tiny) -> None:
    classifier = tiny.cards["tiny/wav2vec2-audio-classification"]
    card = ModelCard(id="x/enhancer", task="audio-to-audio", source="path", path=classifier.path)
    with pytest.raises(RuntimeError, match="no audio-to-audio runner"):
        audio_labels.load_audio_to_audio(card, LoadOptions())
    voice = tiny.cards["tiny/speecht5-audio-to-audio"]
    unvoiced = ModelCard(
        id="x/vc",
        task="audio-to-audio",
        source="path",
        path=voice.path,
        options={"speaker_embeddings": "none.npy"},
    )
    with pytest.raises(RuntimeError, match="speaker_embeddings"):
        audio_labels.load_audio_to_audio(unvoiced, LoadOptions())
