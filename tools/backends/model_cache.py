"""One cache of loaded models for every runner: least recently used out, by count and by memory budget."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# transformers and diffusers build a model under process-wide patches (meta-device init swaps
# `nn.Module.register_parameter` for every thread), so a load in one thread can leave another thread's model
# on the meta device ("Cannot copy out of meta tensor"). Loads therefore run one at a time in the process;
# inference stays parallel.
_LOADING = threading.Lock()

_WEIGHT_SUFFIXES = (".gguf", ".onnx", ".bin", ".safetensors", ".pth", ".pt", ".tflite")


class ModelCache:
    """Loaded models by key, loading each once even when calls arrive together.

    Args:
        max_models: how many models to keep.
        budget_bytes: the most memory the kept models may take (0: no limit); the newest model always stays.
    """

    def __init__(self, max_models: int = 8, budget_bytes: int = 0) -> None:
        self._max_models = max(1, max_models)
        self._budget = max(0, budget_bytes)
        self._models: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._load_locks: dict[str, threading.Lock] = {}

    def get(self, key: str, load: Callable[[], Any], label: str = "") -> Any:
        """Return the model under ``key``, loading it with ``load`` if it is not cached.

        Args:
            key: the cache key.
            load: loads the model (blocking).
            label: what to call it in logs.
        """
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key][0]
            load_lock = self._load_locks.setdefault(key, threading.Lock())
        with load_lock:  # one load per model, even when calls arrive together
            with self._lock:
                if key in self._models:
                    return self._models[key][0]
            with _LOADING:
                started = time.perf_counter()
                model = load()
            size = footprint(model)
            logger.info(
                "loaded %s in %.2fs (%.0f MB)", label or key, time.perf_counter() - started, size / 2**20
            )
            with self._lock:
                self._models[key] = (model, size)
                self._evict()
            return model

    def _evict(self) -> None:
        while len(self._models) > 1 and (
            len(self._models) > self._max_models or (self._budget and self.total_bytes() > self._budget)
        ):
            evicted, (_, size) = self._models.popitem(last=False)
            logger.info("evicted %s from the model cache (%.0f MB)", evicted, size / 2**20)

    def total_bytes(self) -> int:
        """Return the estimated memory of the cached models."""
        return sum(size for _, size in self._models.values())

    def keys(self) -> list[str]:
        """Return the cached keys, least recently used first."""
        with self._lock:
            return list(self._models)

    def clear(self) -> None:
        """Drop every cached model."""
        with self._lock:
            self._models.clear()


def footprint(model: Any, depth: int = 2) -> int:
    """Estimate the memory a loaded model holds, in bytes (0 when unknown).

    Counts the parameters and buffers of torch modules found on the object (and its attributes, components
    and values, ``depth`` levels down), and the size of weight files it holds by path (GGUF, ONNX, ...).
    """
    seen: set[int] = set()
    return _footprint(model, depth, seen)


def _footprint(obj: Any, depth: int, seen: set[int]) -> int:
    if obj is None or id(obj) in seen:
        return 0
    seen.add(id(obj))
    tensors = _module_bytes(obj)
    if tensors is not None:
        return tensors
    if isinstance(obj, (str, Path)):
        path = Path(obj)
        return path.stat().st_size if path.suffix in _WEIGHT_SUFFIXES and path.is_file() else 0
    if depth <= 0:
        return 0
    children: list[Any] = []
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(getattr(obj, "components", None), dict):  # a diffusers pipeline
        children = list(obj.components.values())
    elif hasattr(obj, "__dict__"):
        children = list(vars(obj).values())
    return sum(_footprint(child, depth - 1, seen) for child in children)


def _module_bytes(obj: Any) -> int | None:
    torch = sys.modules.get("torch")  # a torch module exists only once torch is imported
    if torch is None or not isinstance(obj, torch.nn.Module):
        return None
    return sum(t.numel() * t.element_size() for t in (*obj.parameters(), *obj.buffers()))
