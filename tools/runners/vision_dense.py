"""Runners for dense vision predictions: image segmentation and depth estimation, batched.

Both go through the transformers pipelines, which handle the model families (Segformer, Mask2Former, DETR
panoptic, DPT, Depth Anything ...) and bring each prediction back to the input's size; a batch of calls is
one ``pipeline(images, batch_size=n)`` pass. Importing this module imports neither torch nor transformers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.models import ModelCard
from tools.runners.base import BatchSteps, Call, LoadOptions, Runner, TaskOutput
from tools.runners.hf_common import Loaded, pipeline_of, read_image
from tools.runners.masks import add_legend, mask_image, overlay_masks, render_depth

logger = logging.getLogger(__name__)

_SEGMENTATION_KEYS = ("subtask", "threshold", "mask_threshold", "overlap_mask_area_threshold")
_METRIC_DEPTH_TYPES = frozenset({"zoedepth", "glpn", "depth_pro"})


# ---------------------------------------------------------------- image-segmentation


@dataclass(frozen=True)
class Segment:
    """One labelled region of an image.

    Attributes:
        label: the class name.
        score: the model's confidence, or None for semantic segmenters (which give none).
        mask: a boolean (height, width) array, True inside the region.
    """

    label: str
    score: float | None
    mask: np.ndarray

    @property
    def area(self) -> float:
        """Return the share of the image the region covers, from 0 to 1."""
        return float(self.mask.mean()) if self.mask.size else 0.0


def load_image_segmentation(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a segmenter (semantic, instance or panoptic) as a transformers pipeline.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The loaded pipeline.
    """
    return pipeline_of("image-segmentation", card, options)


def segment_images(
    loaded: Loaded, images: list[Any], options: dict[str, Any]
) -> list[tuple[Any, list[Segment]]]:
    """Segment several images in one pipeline pass.

    Options (per card): ``subtask`` (semantic, instance, panoptic), ``threshold``, ``mask_threshold`` and
    ``overlap_mask_area_threshold``, passed to the pipeline.

    Args:
        loaded: the pipeline.
        images: PIL images.
        options: the card's options.

    Returns:
        Each image with its segments, in order.
    """
    import torch

    kwargs = {key: options[key] for key in _SEGMENTATION_KEYS if key in options}
    with torch.inference_mode():
        results = loaded.model(images, batch_size=len(images), **kwargs)
    if results and isinstance(results[0], dict):  # one image may come back unwrapped
        results = [results]
    return [
        (image, [_segment(found) for found in result]) for image, result in zip(images, results, strict=True)
    ]


def _segment(found: dict[str, Any]) -> Segment:
    score = found.get("score")
    mask = np.asarray(found["mask"]) > 127
    return Segment(str(found["label"]), None if score is None else float(score), mask)


def finish_segmentation(loaded: Loaded, call: Call, segmented: tuple[Any, list[Segment]]) -> TaskOutput:
    """Draw the segments over the image, with a legend, and describe them.

    Option ``save_masks`` (default false) also saves each mask as a black-and-white PNG; option ``alpha``
    (default 0.5) sets how opaque the colours are.

    Args:
        loaded: the pipeline (unused).
        call: args ``image``.
        segmented: the image and the segments the model found in it.

    Returns:
        ``image`` the annotated copy; ``text`` the labels with their area share (largest first);
        ``data["segments"]`` ``{label, score, area}`` (plus ``mask``, a PNG path, when saved).
    """
    image, segments = segmented
    ordered = sorted(segments, key=lambda segment: -segment.area)
    drawn = overlay_masks(image, [segment.mask for segment in ordered], float(call.options.get("alpha", 0.5)))
    legend = [f"{segment.label} {segment.area:.0%}" for segment in ordered]
    path = call.workspace.save_image(add_legend(drawn, legend), call.stem)
    records = [_segment_record(call, segment, bool(call.options.get("save_masks"))) for segment in ordered]
    text = ", ".join(legend) if legend else "no segments found"
    return TaskOutput(text=text, image=str(path), data={"segments": records})


def _segment_record(call: Call, segment: Segment, save_mask: bool) -> dict[str, Any]:
    record: dict[str, Any] = {"label": segment.label, "score": segment.score, "area": round(segment.area, 4)}
    if save_mask:
        stem = f"{call.stem}-mask-{segment.label}"
        record["mask"] = str(call.workspace.save_image(mask_image(segment.mask), stem))
    return record


# ---------------------------------------------------------------- depth-estimation


def load_depth_estimation(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a depth estimator (DPT, Depth Anything, GLPN, ZoeDepth ...) as a transformers pipeline.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The loaded pipeline.
    """
    return pipeline_of("depth-estimation", card, options)


def estimate_depths(loaded: Loaded, images: list[Any], options: dict[str, Any]) -> list[np.ndarray]:
    """Estimate the depth of several images in one pipeline pass.

    Args:
        loaded: the pipeline.
        images: PIL images.
        options: the card's options (unused: rendering options apply when finishing).

    Returns:
        One float32 (height, width) array per image, at the image's size.
    """
    import torch

    with torch.inference_mode():
        results = loaded.model(images, batch_size=len(images))
    if isinstance(results, dict):
        results = [results]
    depths = [np.asarray(result["predicted_depth"].float().cpu().numpy()) for result in results]
    return [depth.astype(np.float32).reshape(depth.shape[-2:]) for depth in depths]  # drop a leading 1


def larger_is_farther(loaded: Loaded, options: dict[str, Any]) -> bool:
    """Return whether the model predicts distance (metric depth) rather than inverse depth.

    The card option ``larger_is_farther`` decides; without it, ZoeDepth, GLPN, Depth Pro and models
    configured with ``depth_estimation_type: metric`` predict distance, the others (DPT, Depth Anything)
    relative inverse depth.

    Args:
        loaded: the pipeline.
        options: the card's options.

    Returns:
        True when larger values are farther away.
    """
    if "larger_is_farther" in options:
        return bool(options["larger_is_farther"])
    config = getattr(loaded.model.model, "config", None)
    if getattr(config, "depth_estimation_type", None) == "metric":
        return True
    return getattr(config, "model_type", "") in _METRIC_DEPTH_TYPES


def finish_depth(loaded: Loaded, call: Call, depth: np.ndarray) -> TaskOutput:
    """Save the depth map as an image where near is bright (option ``colormap``, default ``gray``).

    Args:
        loaded: the pipeline.
        call: args ``image``.
        depth: the predicted depth, at the image's size.

    Returns:
        ``image`` the depth image; ``text`` a one-line description; ``data`` ``min``, ``max``, ``width``,
        ``height`` and ``kind`` (``distance`` or ``inverse depth``).
    """
    farther = larger_is_farther(loaded, call.options)
    colour_map = str(call.options.get("colormap", "gray"))
    path = call.workspace.save_image(render_depth(depth, colour_map, farther), call.stem)
    kind = "distance" if farther else "inverse depth"
    low, high = float(np.nanmin(depth)), float(np.nanmax(depth))
    data = {
        "min": low,
        "max": high,
        "width": int(depth.shape[1]),
        "height": int(depth.shape[0]),
        "kind": kind,
    }
    text = (
        f"depth map {depth.shape[1]}x{depth.shape[0]} ({kind} from {low:.3g} to {high:.3g}; near is bright)"
    )
    return TaskOutput(text=text, image=str(path), data=data)


RUNNERS: tuple[Runner, ...] = (
    Runner.batched(
        "transformers/image-segmentation",
        load_image_segmentation,
        BatchSteps(read_image, segment_images, finish_segmentation),
    ),
    Runner.batched(
        "transformers/depth-estimation",
        load_depth_estimation,
        BatchSteps(read_image, estimate_depths, finish_depth),
    ),
)
