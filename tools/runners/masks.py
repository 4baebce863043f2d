"""Drawing dense predictions a person can look at: segment masks over a photo, and depth maps.

PIL and numpy only (no matplotlib): colour maps are a few anchor colours, linearly interpolated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SEGMENT_COLOURS: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75),
    (60, 180, 75),
    (67, 99, 216),
    (245, 130, 49),
    (145, 30, 180),
    (66, 212, 244),
    (240, 50, 230),
    (191, 239, 69),
    (255, 225, 25),
    (70, 153, 144),
    (154, 99, 36),
    (128, 0, 0),
    (0, 0, 117),
    (128, 128, 0),
    (250, 190, 212),
    (170, 255, 195),
)
"""Distinct colours for segments, in order of use (cycled when there are more segments)."""

COLOUR_MAPS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "gray": ((0, 0, 0), (255, 255, 255)),
    "inferno": (
        (0, 0, 4),
        (40, 11, 84),
        (101, 21, 110),
        (159, 42, 99),
        (212, 72, 66),
        (245, 125, 21),
        (250, 193, 39),
        (252, 255, 164),
    ),
    "viridis": (
        (68, 1, 84),
        (72, 40, 120),
        (62, 74, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (109, 205, 89),
        (180, 222, 44),
        (253, 231, 37),
    ),
    "turbo": (
        (48, 18, 59),
        (70, 107, 227),
        (40, 187, 236),
        (49, 242, 153),
        (162, 252, 60),
        (237, 208, 58),
        (251, 128, 34),
        (208, 47, 7),
        (122, 4, 3),
    ),
}
"""Colour maps by name, low to high; high values (near) get the last colour."""

_LEGEND_ROW = 14
_SWATCH = 10


def segment_colour(index: int) -> tuple[int, int, int]:
    """Return the colour of the ``index``-th segment (cycling through `SEGMENT_COLOURS`)."""
    return SEGMENT_COLOURS[index % len(SEGMENT_COLOURS)]


def overlay_masks(image: Any, masks: Sequence[np.ndarray], alpha: float = 0.5) -> Any:
    """Return a copy of ``image`` with each mask filled in its own translucent colour.

    Args:
        image: a PIL RGB image (left unchanged).
        masks: boolean arrays of shape (height, width), one per segment; segment ``i`` gets
            `segment_colour` ``(i)``. Later masks are drawn over earlier ones.
        alpha: how opaque the colours are, from 0 (invisible) to 1 (solid).

    Returns:
        The blended RGB copy, the same size as ``image``.

    Raises:
        ValueError: when a mask's shape is not the image's.
    """
    from PIL import Image

    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    for index, mask in enumerate(masks):
        if mask.shape != pixels.shape[:2]:
            raise ValueError(f"mask shape {mask.shape} is not the image's {pixels.shape[:2]}")
        colour = np.asarray(segment_colour(index), dtype=np.float32)
        pixels[mask] = (1.0 - alpha) * pixels[mask] + alpha * colour
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def add_legend(image: Any, entries: Sequence[str]) -> Any:
    """Return ``image`` with a legend strip below it: one row per entry, with its segment colour.

    Args:
        image: the picture (left unchanged).
        entries: the legend texts; entry ``i`` is shown with `segment_colour` ``(i)``.

    Returns:
        A new RGB image, as wide as ``image`` or as the longest legend row, and taller by the legend.
    """
    from PIL import Image, ImageDraw

    if not entries:
        return image.copy()
    probe = ImageDraw.Draw(image.copy())
    text_width = max(int(probe.textlength(entry)) for entry in entries)
    width = max(image.width, _SWATCH + 8 + text_width)
    canvas = Image.new("RGB", (width, image.height + _LEGEND_ROW * len(entries) + 4), (255, 255, 255))
    canvas.paste(image.convert("RGB"), (0, 0))
    draw = ImageDraw.Draw(canvas)
    for index, entry in enumerate(entries):
        top = image.height + 2 + index * _LEGEND_ROW
        draw.rectangle((2, top + 2, 2 + _SWATCH, top + 2 + _SWATCH), fill=segment_colour(index))
        draw.text((_SWATCH + 6, top + 1), entry, fill=(0, 0, 0))
    return canvas


def mask_image(mask: np.ndarray) -> Any:
    """Return a boolean mask as a black-and-white PIL image (white = inside)."""
    from PIL import Image

    return Image.fromarray(mask.astype(np.uint8) * 255, "L")


def normalise(values: np.ndarray) -> np.ndarray:
    """Scale an array to [0, 1] by its finite minimum and maximum (a constant array becomes zeros)."""
    data = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(data.min()), float(data.max())
    if high - low <= 1e-12:
        return np.zeros_like(data)
    return (data - low) / (high - low)


def apply_colour_map(scaled: np.ndarray, name: str) -> Any:
    """Colour values in [0, 1] with a named colour map.

    Args:
        scaled: a 2-D array of values in [0, 1].
        name: a key of `COLOUR_MAPS`.

    Returns:
        An RGB PIL image (an ``L`` image for ``gray``).

    Raises:
        ValueError: for an unknown colour map name.
    """
    from PIL import Image

    if name not in COLOUR_MAPS:
        raise ValueError(f"unknown colour map {name!r}; choose one of {', '.join(COLOUR_MAPS)}")
    if name == "gray":
        return Image.fromarray(np.round(scaled * 255).astype(np.uint8), "L")
    anchors = np.asarray(COLOUR_MAPS[name], dtype=np.float32)
    positions = np.linspace(0.0, 1.0, len(anchors))
    channels = [np.interp(scaled, positions, anchors[:, channel]) for channel in range(3)]
    return Image.fromarray(np.round(np.stack(channels, axis=-1)).astype(np.uint8), "RGB")


def render_depth(depth: np.ndarray, colour_map: str = "gray", larger_is_farther: bool = False) -> Any:
    """Draw a depth prediction as an image where near is bright.

    Args:
        depth: a 2-D array of the model's depth values.
        colour_map: a key of `COLOUR_MAPS`.
        larger_is_farther: True for metric depth (distance), False for relative inverse depth (disparity,
            as DPT and Depth Anything predict), where larger values are nearer.

    Returns:
        The depth image, the array's size.

    Raises:
        ValueError: for an array that is not 2-D, or an unknown colour map.
    """
    if np.ndim(depth) != 2:
        raise ValueError(f"a depth map must be 2-D, got shape {np.shape(depth)}")
    scaled = normalise(depth)
    if larger_is_farther:
        scaled = 1.0 - scaled
    return apply_colour_map(scaled, colour_map)
