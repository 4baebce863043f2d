"""llama.cpp in this process: one thread for every call, and model loading with the VM-safe settings.

Both the embedded controller (`graph.embedded`) and the text runners (`tools.runners.packaged.llama_cpp`) go
through here, so the two never decode on different OS threads at once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# ggml's OpenMP build keeps a spinning thread team per OS thread that calls it: once a second thread has
# called in, the teams fight over the cores and decoding stays 2.2x slower (measured: 6.1 s -> 13.2 s for
# one reply on 2 cores). So every llama.cpp call of the process, loads included, runs on this one thread
# (created lazily by the executor on first use). It also serialises access to the non-thread-safe ``Llama``.
_HERE = threading.local()
_LLAMA_THREAD = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="llama-cpp", initializer=lambda: setattr(_HERE, "llama_thread", True)
)


def on_llama_thread() -> bool:
    """Return True when the caller already runs on the llama.cpp thread."""
    return bool(getattr(_HERE, "llama_thread", False))


def submit(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Future[R]:
    """Queue ``fn(*args, **kwargs)`` on the llama.cpp thread.

    Args:
        fn: a function that calls llama.cpp.
        *args: its positional arguments.
        **kwargs: its keyword arguments.

    Returns:
        The future of its result.
    """
    return _LLAMA_THREAD.submit(fn, *args, **kwargs)


def call(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run ``fn(*args, **kwargs)`` on the llama.cpp thread and wait for its result (or exception).

    Called from the llama.cpp thread itself, it runs ``fn`` directly (queueing would deadlock).

    Args:
        fn: a function that calls llama.cpp.
        *args: its positional arguments.
        **kwargs: its keyword arguments.

    Returns:
        What ``fn`` returned.
    """
    if on_llama_thread():
        return fn(*args, **kwargs)
    return _LLAMA_THREAD.submit(fn, *args, **kwargs).result()


def default_threads(cap: int = 4) -> int:
    """Return the CPU threads to decode with: the core count, at most ``cap`` (more rarely helps)."""
    return max(1, min(cap, os.cpu_count() or 1))


def load(
    model_path: str,
    *,
    n_ctx: int,
    n_threads: int,
    n_gpu_layers: int = 0,
    seed: int = 0,
    chat_format: str | None = None,
    extra_buffers: bool = False,
    verbose: bool = False,
) -> Any:
    """Load a GGUF file into a ``llama_cpp.Llama``, on the llama.cpp thread.

    Args:
        model_path: the .gguf file.
        n_ctx: the context window in tokens.
        n_threads: CPU threads for decoding and prompt processing.
        n_gpu_layers: layers to offload to a GPU (-1: all); 0 on CPU.
        seed: the sampler seed.
        chat_format: llama.cpp chat format; None uses the template in the file.
        extra_buffers: let llama.cpp repack weights into extra CPU buffer types (AMX, repack). Off by default:
            the AMX kernels crash (SIGSEGV) on multi-token batches in VMs that advertise AMX (Firecracker).
        verbose: let llama.cpp log to stderr.

    Returns:
        The loaded model.

    Raises:
        FileNotFoundError: when the file does not exist.
        ImportError: when llama-cpp-python is not installed, naming the extra that installs it.
    """
    if not os.path.isfile(model_path):
        raise FileNotFoundError(f"GGUF model file not found: {model_path}")
    try:
        import llama_cpp
    except ImportError as error:
        raise ImportError(
            "llama-cpp-python is not installed; "
            "install the project's 'offline' extra (pip install -e '.[offline]')"
        ) from error

    def load_here() -> Any:
        logger.info("loading %s with llama.cpp (n_ctx=%d, threads=%d)", model_path, n_ctx, n_threads)
        with _model_params(llama_cpp, extra_buffers):
            return llama_cpp.Llama(
                model_path=model_path,
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_gpu_layers=n_gpu_layers,
                seed=seed,
                chat_format=chat_format,
                verbose=verbose,
            )

    return call(load_here)


@contextlib.contextmanager
def _model_params(llama_cpp: Any, extra_buffers: bool) -> Iterator[None]:
    """Turn off llama.cpp's extra buffer types while a model loads.

    ``Llama`` has no argument for ``llama_model_params.use_extra_bufts``, so the default-params factory it
    calls is wrapped for the duration of the load. Loads run one at a time on the llama.cpp thread, so no
    other load sees the wrapper.
    """
    if extra_buffers:
        yield
        return
    bindings = llama_cpp.llama_cpp
    original = bindings.llama_model_default_params

    def without_extra_buffers() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    bindings.llama_model_default_params = without_extra_buffers
    try:
        yield
    finally:
        bindings.llama_model_default_params = original


_MESSAGE_OVERHEAD = 8
"""Tokens a chat format adds around one message, where the file has no template to render."""


def chat_prompt_tokens(model: Any, messages: list[dict[str, str]]) -> int:
    """Return how many tokens ``messages`` take in ``model``'s own chat prompt (call on the llama.cpp thread).

    The prompt is rendered with the chat template stored in the GGUF file, as ``create_chat_completion``
    renders it, and tokenized by the model's own vocabulary; a file without a template is counted message by
    message, with a few tokens per message for the role markers.

    Args:
        model: a loaded ``llama_cpp.Llama``.
        messages: ``{"role", "content"}`` dicts.

    Returns:
        The prompt's length in tokens, the generation prompt included.
    """
    template = model.metadata.get("tokenizer.chat_template")
    if template and model.chat_format == "chat_template.default":
        vocab = model._model  # noqa: SLF001 - the special tokens' text, as Llama itself reads them
        eos, bos = model.token_eos(), model.token_bos()
        formatter = _chat_formatter(
            template,
            vocab.token_get_text(eos) if eos != -1 else "",
            vocab.token_get_text(bos) if bos != -1 else "",
        )
        prompt = formatter(messages=messages).prompt
        return len(model.tokenize(prompt.encode("utf-8"), special=True))  # as create_completion does
    return sum(
        len(model.tokenize(message["content"].encode("utf-8"), add_bos=False)) + _MESSAGE_OVERHEAD
        for message in messages
    )


@functools.lru_cache(maxsize=4)
def _chat_formatter(template: str, eos_token: str, bos_token: str) -> Any:
    """Return the chat template compiled once (fitting a prompt counts several versions of it)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    return Jinja2ChatFormatter(template=template, eos_token=eos_token, bos_token=bos_token)
