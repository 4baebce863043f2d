"""Runners for real models whose weights ship inside installed Python packages (the ``offline`` extra).

One module per library: EfficientNet-Lite0 (image classification), a Piper voice (speech synthesis), Whisper
base through faster-whisper (speech recognition), all-MiniLM-L6-v2 (sentence similarity) and SmolLM2 through
llama.cpp (text tasks), rapidocr (document questions by OCR), mediapipe (pose images, person masks, faces)
and VADER (sentiment).
loads, and a missing one raises `PackageMissingError` naming the extra to install.
"""

from __future__ import annotations

from tools.runners.base import Runner
from tools.runners.packaged import (
    efficientnet,
    llama_cpp,
    mediapipe_faces,
    mediapipe_pose,
    minilm,
    piper,
    rapidocr,
    vader,
    whisper,
)

RUNNERS: tuple[Runner, ...] = (
    *efficientnet.RUNNERS,
    *piper.RUNNERS,
    *whisper.RUNNERS,
    *minilm.RUNNERS,
    *llama_cpp.RUNNERS,
    *rapidocr.RUNNERS,
    *mediapipe_pose.RUNNERS,
    *mediapipe_faces.RUNNERS,
    *vader.RUNNERS,
)
"""Every runner for models shipped in packages, named ``<library>/<task>``."""
