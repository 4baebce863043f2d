"""What the transformers and diffusers runners share: loading on a device and dtype, moving inputs, decoding.

Importing this module imports neither torch nor transformers: they are imported when a model is loaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions

logger = logging.getLogger(__name__)

_GENERATION_KEYS = (
    "max_new_tokens",
    "min_new_tokens",
    "num_beams",
    "do_sample",
    "temperature",
    "top_k",
    "top_p",
    "repetition_penalty",
    "no_repeat_ngram_size",
    "length_penalty",
)
_DTYPE_ALIASES = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16"}


@dataclass(frozen=True)
class Loaded:
    """A model with what prepares its inputs.

    Attributes:
        model: the model (in eval mode, on its device) or a pipeline.
        processor: the tokenizer, processor or image processor that prepares inputs (None for pipelines).
        tokenizer: the tokenizer that decodes outputs (may be the processor's own).
        device: the device the model is on.
    """

    model: Any
    processor: Any = None
    tokenizer: Any = None
    device: str = "cpu"


# ---------------------------------------------------------------- loading helpers


def torch_dtype(options: LoadOptions) -> Any:
    """Return the torch dtype to load with: ``options.dtype``, but always float32 on a CPU.

    Args:
        options: the device and dtype.

    Returns:
        A ``torch.dtype``.

    Raises:
        ValueError: for a name that is not a floating torch dtype.
    """
    import torch

    name = _DTYPE_ALIASES.get(options.dtype, options.dtype)
    if options.device.startswith("cpu"):
        if name != "float32":
            logger.info("dtype %s ignored on %s: loading in float32", options.dtype, options.device)
        return torch.float32
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"unknown dtype {options.dtype!r}")
    return dtype


def from_pretrained(cls: Any, card: ModelCard, options: LoadOptions) -> Any:
    """Load ``card``'s model with the model class ``cls``, on the device and in the dtype of ``options``."""
    model = cls.from_pretrained(card.location, dtype=torch_dtype(options))
    return model.to(options.device).eval()


def model_and_tokenizer(model_class: str, card: ModelCard, options: LoadOptions) -> Loaded:
    """Load ``card``'s model with the transformers class named ``model_class``, and its tokenizer."""
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(card.location)
    model = from_pretrained(getattr(transformers, model_class), card, options)
    return Loaded(model, tokenizer, tokenizer, options.device)


def model_and_processor(model_class: str, card: ModelCard, options: LoadOptions) -> Loaded:
    """Load ``card``'s model with the transformers class named ``model_class``, and its processor."""
    import transformers

    model = from_pretrained(getattr(transformers, model_class), card, options)
    processor = transformers.AutoProcessor.from_pretrained(card.location)
    return Loaded(model, processor, getattr(processor, "tokenizer", None), options.device)


def read_image(loaded: Any, call: Call) -> Any:
    """Read a call's ``image`` argument: the prepare step of image runners that batch."""
    return call.workspace.load_image(call.args["image"])


def pipeline_of(task: str, card: ModelCard, options: LoadOptions) -> Loaded:
    """Load ``card``'s model as a transformers ``pipeline`` for ``task``."""
    from transformers import pipeline

    make: Any = pipeline  # its overloads want a literal task name
    pipe = make(task, model=card.location, device=options.device, dtype=torch_dtype(options))
    return Loaded(model=pipe, device=options.device)


def to_model(batch: Any, model: Any) -> dict[str, Any]:
    """Move a processor's tensors to the model's device, casting floating ones to its dtype."""
    import torch

    moved: dict[str, Any] = {}
    for key, value in dict(batch).items():
        if isinstance(value, torch.Tensor):
            value = (
                value.to(model.device, dtype=model.dtype)
                if value.is_floating_point()
                else value.to(model.device)
            )
        moved[key] = value
    return moved


def generation_kwargs(call: Call, max_new_tokens: int) -> dict[str, Any]:
    """Return the generation settings from the card options, with a default ``max_new_tokens``."""
    kwargs = {key: call.options[key] for key in _GENERATION_KEYS if key in call.options}
    kwargs.setdefault("max_new_tokens", max_new_tokens)
    return kwargs


def max_input_tokens(tokenizer: Any, model: Any, call: Call) -> int:
    """Return how many input tokens fit: the option, the tokenizer's limit, or the position embeddings."""
    limits = [int(call.options["max_input_tokens"])] if "max_input_tokens" in call.options else []
    if 0 < getattr(tokenizer, "model_max_length", 0) < 1_000_000:
        limits.append(int(tokenizer.model_max_length))
    config = getattr(model, "config", None)
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    return min(limits) if limits else 512


def decode(tokenizer: Any, ids: Any) -> str:
    """Decode token ids to stripped text without special tokens."""
    return str(tokenizer.decode(ids, skip_special_tokens=True)).strip()
