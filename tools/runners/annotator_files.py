"""What the ControlNet annotator networks share: finding their weights file, and the detection resolution.

The HED and M-LSD annotators are plain torch networks whose weights are single files in
``lllyasviel/Annotators`` on the Hub. A card points at them either as a folder holding the file
(``source: path``) or as that hub id, read from the Hugging Face cache. Both networks see the image resized as
ControlNet's annotators resize it: the shorter side to the detection resolution (default 512), each side
rounded to a multiple of 64.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.runners.annotators import NoOfflineModelError

ANNOTATORS_REPO = "lllyasviel/Annotators"
DETECT_RESOLUTION = 512
SIDE_MULTIPLE = 64


def _how_to_get(name: str, repo: str) -> str:
    return (
        f"it needs {name} from {repo} on the Hugging Face Hub (no installed package ships it); get it while "
        f"online with `hugginggpt models pull {repo}` (or `hf download {repo} {name}`)"
    )


def weights_path(card: ModelCard, task: str, default_file: str) -> Path:
    """Return the annotator's weights file: in the card's folder, or in the HF cache for its hub id.

    Args:
        card: the model card; option ``weights_file`` overrides ``default_file``.
        task: the task type, for the error message (``hed-control``, ``mlsd-control``).
        default_file: the file name in ``lllyasviel/Annotators`` (``ControlNetHED.pth`` ...).

    Returns:
        The path of the weights file.

    Raises:
        NoOfflineModelError: when the file is neither in the folder nor in the cache, saying how to get it.
    """
    name = str(card.options.get("weights_file", default_file))
    if card.source == "path":
        path = Path(card.location) / name
        if path.is_file():
            return path
        how = _how_to_get(name, ANNOTATORS_REPO)
        raise NoOfflineModelError(f"no model available offline for {task}: {path} does not exist; {how}")
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(card.location, name))
    except Exception as error:  # offline and not cached: the hub client raises several kinds
        raise NoOfflineModelError(
            f"no model available offline for {task}: {_how_to_get(name, card.location)} ({error})"
        ) from error


def detect_resolution(options: dict[str, Any]) -> int:
    """Return the card's ``detect_resolution`` option (default 512; at least 64).

    Raises:
        InputError: when the option is not a whole number of at least 64.
    """
    value = options.get("detect_resolution", DETECT_RESOLUTION)
    try:
        resolution = int(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"detect_resolution must be a whole number of pixels, not {value!r}") from error
    if resolution < SIDE_MULTIPLE:
        raise InputError(f"detect_resolution must be at least {SIDE_MULTIPLE}, not {resolution}")
    return resolution


def resize_for_detection(cv2: Any, image: np.ndarray, resolution: int) -> np.ndarray:
    """Resize an image as ControlNet's ``resize_image``: shorter side to ``resolution``, sides to 64s.

    Args:
        cv2: the OpenCV module.
        image: ``(H, W, C)`` uint8.
        resolution: the target length of the shorter side.

    Returns:
        The resized image (Lanczos when enlarging, area averaging when shrinking).
    """
    height, width = image.shape[:2]
    scale = float(resolution) / min(height, width)
    new_height = max(SIDE_MULTIPLE, int(np.round(height * scale / SIDE_MULTIPLE)) * SIDE_MULTIPLE)
    new_width = max(SIDE_MULTIPLE, int(np.round(width * scale / SIDE_MULTIPLE)) * SIDE_MULTIPLE)
    interpolation = cv2.INTER_LANCZOS4 if scale > 1 else cv2.INTER_AREA
    return np.asarray(cv2.resize(image, (new_width, new_height), interpolation=interpolation))
