"""Build the controller chat model from a ``provider/model`` spec: OpenAI, Azure, Hugging Face, local GGUF."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # langchain_core takes ~0.5 s to import; the provider factories import it when called
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

CONTROLLER_ENV = "HUGGINGGPT_CONTROLLER"
DEFAULT_CONTROLLER = "local/qwen2.5-coder-1.5b"
"""The embedded controller with the better TaskBench plans at under 10 s a plan on 2 cores (README)."""
# Keyless OpenAI-compatible servers (llama.cpp server, vLLM, Ollama) still need a non-empty key in the client.
PLACEHOLDER_API_KEY = "not-needed"


def controller_from_env(default: str = DEFAULT_CONTROLLER) -> str:
    """Return the controller spec from ``HUGGINGGPT_CONTROLLER``, or ``default`` when it is unset or empty.

    Args:
        default: the spec used when the variable is not set.

    Returns:
        A ``provider/model`` spec.
    """
    return os.environ.get(CONTROLLER_ENV, "").strip() or default


EMBEDDED_CONTROLLERS = ("local/smollm2", "local/qwen2.5-coder-1.5b")


def installed_controllers() -> list[str]:
    """Return the embedded controllers whose model is installed here (located on disk, never loaded)."""
    if importlib.util.find_spec("llama_cpp") is None:
        return []
    from tools.gguf_parts import QWEN_CODER_1_5B, cache_dir
    from tools.packaged import PackageMissingError, smollm2_gguf

    found = []
    try:
        smollm2_gguf()
        found.append(EMBEDDED_CONTROLLERS[0])
    except PackageMissingError:
        pass
    try:
        if not (cache_dir() / QWEN_CODER_1_5B.file_name).is_file():
            QWEN_CODER_1_5B.part_paths()
        found.append(EMBEDDED_CONTROLLERS[1])
    except PackageMissingError:
        pass
    return found


def load_chat_model(spec: str, **overrides: Any) -> BaseChatModel:
    """Build the chat model a ``provider/model`` spec names; nothing is loaded or called yet.

    Providers: ``openai/<model>`` (``base_url`` override or ``OPENAI_BASE_URL`` for compatible servers),
    ``azure/<deployment>``, ``huggingface/<repo_id>`` (Inference Providers) and ``local/<name>``
    (``local/smollm2``, ``local/qwen2.5-coder-1.5b`` or ``local/<path>.gguf``, run in-process by llama.cpp).

    Args:
        spec: e.g. ``openai/gpt-4o-mini`` or ``local/smollm2``.
        **overrides: constructor arguments for the provider's chat model class (e.g. ``temperature``).

    Returns:
        The chat model.

    Raises:
        ValueError: for a malformed spec or an unknown provider.
    """
    provider, sep, model = spec.partition("/")
    if not sep or not model:
        raise ValueError(f"controller spec must look like 'provider/model', got {spec!r}")
    factory = _PROVIDERS.get(provider)
    if factory is None:
        known = ", ".join(_PROVIDERS)
        raise ValueError(f"unknown provider {provider!r} in {spec!r}; known providers: {known}")
    logger.debug("building chat model %s", spec)
    return factory(model, dict(overrides))


def _openai(model: str, overrides: dict[str, Any]) -> BaseChatModel:
    """Build a ``ChatOpenAI`` for the OpenAI API or any OpenAI-compatible server."""
    from langchain_openai import ChatOpenAI

    base_url = overrides.pop("base_url", None) or os.environ.get("OPENAI_BASE_URL")
    api_key = overrides.pop("api_key", None) or os.environ.get("OPENAI_API_KEY")
    if not api_key:
        if not base_url:
            raise ValueError("openai/... needs OPENAI_API_KEY, or a base_url for a keyless local server")
        api_key = PLACEHOLDER_API_KEY
    params: dict[str, Any] = {"model": model, "temperature": 0, "api_key": api_key, **overrides}
    if base_url:
        params["base_url"] = base_url
    return ChatOpenAI(**params)


def _azure(deployment: str, overrides: dict[str, Any]) -> BaseChatModel:
    """Build an ``AzureChatOpenAI`` (env: AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, OPENAI_API_VERSION)."""
    from langchain_openai import AzureChatOpenAI

    params: dict[str, Any] = {"azure_deployment": deployment, "temperature": 0, **overrides}
    return AzureChatOpenAI(**params)


def _huggingface(repo_id: str, overrides: dict[str, Any]) -> BaseChatModel:
    """Build a ``ChatHuggingFace`` over a Hugging Face Inference Providers endpoint (token from HF_TOKEN)."""
    try:
        from langchain_huggingface import ChatHuggingFace, HuggingFaceEndpoint
    except ImportError as exc:
        raise ImportError(
            "huggingface/... needs langchain-huggingface; install the 'huggingface' extra "
            "(pip install -e '.[huggingface]')"
        ) from exc
    # ChatHuggingFace copies a truthy endpoint temperature over its own, so both get the same value.
    temperature = overrides.pop("temperature", 0.0)
    endpoint_fields = set(HuggingFaceEndpoint.model_fields)
    endpoint_args = {key: overrides.pop(key) for key in list(overrides) if key in endpoint_fields}
    endpoint_args.setdefault("huggingfacehub_api_token", os.environ.get("HF_TOKEN"))
    endpoint_args.setdefault("task", "text-generation")
    endpoint = HuggingFaceEndpoint(repo_id=repo_id, temperature=temperature, **endpoint_args)
    return ChatHuggingFace(llm=endpoint, temperature=temperature, **overrides)


def _local(name: str, overrides: dict[str, Any]) -> BaseChatModel:
    """Build the embedded llama.cpp model for ``smollm2`` or a GGUF file path (loaded on first call)."""
    path = _gguf_path(name)
    if importlib.util.find_spec("llama_cpp") is None:
        raise ImportError(
            "local/... needs llama-cpp-python; install the 'offline' extra (pip install -e '.[offline]')"
        )
    from graph.embedded import EmbeddedChatModel

    return EmbeddedChatModel(model_path=str(path), **overrides)


def _gguf_path(name: str) -> Path:
    """Resolve ``smollm2`` / ``qwen2.5-coder-1.5b`` to their packaged GGUF, or check a ``.gguf`` path."""
    if name == "smollm2":
        from tools.packaged import smollm2_gguf

        return smollm2_gguf()
    if name == "qwen2.5-coder-1.5b":
        from tools.gguf_parts import QWEN_CODER_1_5B, assembled

        return assembled(QWEN_CODER_1_5B)  # built once into the cache from the 'qwen' extra's 22 wheels
    if not name.endswith(".gguf"):
        raise ValueError(
            f"unknown local model {name!r}; use local/smollm2, local/qwen2.5-coder-1.5b or local/<path>.gguf"
        )
    path = Path(name).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"GGUF model file not found: {path}")
    return path


_PROVIDERS: dict[str, Callable[[str, dict[str, Any]], BaseChatModel]] = {
    "openai": _openai,
    "azure": _azure,
    "huggingface": _huggingface,
    "local": _local,
}
