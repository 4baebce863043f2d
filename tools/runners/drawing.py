"""Drawing results a person would rather see than read: boxes and labels over an image, and their summary."""

from __future__ import annotations

from typing import Any

BOX_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45")


def draw_boxes(image: Any, objects: list[dict[str, Any]]) -> Any:
    """Return a copy of ``image`` with each object's box and label drawn.

    Args:
        image: a PIL image (left unchanged).
        objects: ``{label, score, box: {xmin, ymin, xmax, ymax}}`` dicts.

    Returns:
        The annotated copy, the same size as ``image``.
    """
    from PIL import ImageDraw

    canvas = image.copy()
    draw = ImageDraw.Draw(canvas)
    labels = sorted({obj["label"] for obj in objects})
    width = max(1, round(min(canvas.size) / 200))
    for obj in objects:
        box = obj["box"]
        colour = BOX_COLOURS[labels.index(obj["label"]) % len(BOX_COLOURS)]
        corners = (box["xmin"], box["ymin"], max(box["xmin"], box["xmax"]), max(box["ymin"], box["ymax"]))
        draw.rectangle(corners, outline=colour, width=width)
        draw.text((box["xmin"] + 2, box["ymin"] + 1), f"{obj['label']} {obj['score']:.2f}", fill=colour)
    return canvas


def summarize_objects(objects: list[dict[str, Any]], limit: int = 10) -> str:
    """Return a one-line summary such as ``2 objects: cat (0.98), dog (0.91)``.

    Args:
        objects: detections, best first.
        limit: how many to name.

    Returns:
        The summary.
    """
    if not objects:
        return "no objects found"
    noun = "object" if len(objects) == 1 else "objects"
    named = scored([(obj["label"], obj["score"]) for obj in objects[:limit]])
    more = f", and {len(objects) - limit} more" if len(objects) > limit else ""
    return f"{len(objects)} {noun}: {named}{more}"


def scored(items: list[tuple[str, float]]) -> str:
    """Render labels with scores on one line: ``cat (0.91), dog (0.05)``."""
    return ", ".join(f"{label} ({score:.2f})" for label, score in items)
