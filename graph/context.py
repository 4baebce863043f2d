"""Run-time configuration: a typed `Context` (shown in Studio), filled from configs/, env vars and flags.

A field that a caller leaves out takes the configured value (configs/default.yaml, then ``HUGGINGGPT_*``
variables), not a built-in constant: LangGraph Studio sends only the settings a user changed, and a
controller set in ``.env`` must not fall back to the default because someone changed ``top_k``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "default.yaml"
ENV_PREFIX = "HUGGINGGPT_"
SECTIONS = frozenset({"server"})
"""Top-level keys of a settings file that hold other settings than a run's (see `hugginggpt.settings`)."""

_BUILT_IN: dict[str, Any] = {}


def setting(name: str, default: Any, description: str) -> Any:
    """Declare a Context field whose default is the configured value of ``name``, else ``default``."""
    _BUILT_IN[name] = default

    def configured_or_default() -> Any:
        value = configured().get(name, default)
        return list(value) if isinstance(value, list) else value

    return field(default_factory=configured_or_default, metadata={"description": description})


@dataclass(kw_only=True)
class Context:
    """Settings of one graph run. Each field can be set in configs/default.yaml or as HUGGINGGPT_<NAME>."""

    controller: str = setting(
        "controller",
        "local/qwen2.5-coder-1.5b",
        "Controller LLM as provider/model: local/qwen2.5-coder-1.5b, local/smollm2, openai/gpt-4o-mini, ...",
    )
    catalogs: list[str] = setting(
        "catalogs", ["catalog.yaml", "catalog.offline.yaml"], "Model catalog files (relative to configs/)."
    )
    hub_online: bool = setting(
        "hub_online", False, "Whether hub models that are not cached may be downloaded (candidates)."
    )
    runners: list[str] = setting(
        "runners", [], "Extra runner providers, as module:function returning {name: Runner}."
    )
    inference_mode: str = setting(
        "inference_mode",
        "local",
        "Where models run: local (in process), remote (the HF Inference API), or hybrid (local first).",
    )
    inference_provider: str = setting(
        "inference_provider", "hf-inference", "Inference Provider for remote calls (hf-inference, auto, ...)."
    )
    inference_endpoint: str = setting(
        "inference_endpoint", "", "URL of a dedicated Inference Endpoint or TGI server for remote calls."
    )
    remote_timeout_s: float = setting("remote_timeout_s", 120.0, "Time limit of one remote request.")
    device: str = setting("device", "auto", "Device for local models: auto, cpu, cuda.")
    max_parallel_tasks: int = setting("max_parallel_tasks", 8, "Model batches running at once.")
    max_batch_size: int = setting("max_batch_size", 8, "Most calls to one local model run as one batch.")
    batch_wait_ms: float = setting(
        "batch_wait_ms", 0.0, "How long a burst of calls to one local model waits for more to batch with."
    )
    model_memory_mb: float = setting(
        "model_memory_mb", 0.0, "Memory budget of the loaded local models (least recently used out); 0: none."
    )
    top_k: int = setting("top_k", 5, "Candidate models shown to the selector per task.")
    max_plan_retries: int = setting(
        "max_plan_retries", 2, "Planning calls allowed after the first, when a plan is invalid."
    )
    review_plan: bool = setting(
        "review_plan", False, "Stop after planning until the plan is approved, edited or rejected."
    )
    max_attempts: int = setting(
        "max_attempts", 2, "Models tried per task (the chosen one, then the next candidates)."
    )
    task_timeout_s: float = setting("task_timeout_s", 300.0, "Time limit of one task attempt.")
    history_tokens: int = setting(
        "history_tokens", 1200, "Token budget of the chat history given to the planner."
    )
    controller_context_tokens: int = setting(
        "controller_context_tokens",
        0,
        "Context window of the controller in tokens; 0: the embedded model's, an API model's LangChain "
        "profile, else 8192. The planning prompt is trimmed to fit it.",
    )
    answer_max_tokens: int = setting(
        "answer_max_tokens", 300, "Most tokens the controller may spend on the final answer."
    )
    workspace_dir: str = setting("workspace_dir", "workspace", "Folder for each run's files.")
    inputs_dir: str = setting(
        "inputs_dir", ".", "Folder that input paths resolve against; a plan reads files only from here."
    )
    files_url: str = setting(
        "files_url", "", "URL path that produced files are named by (the server uses /files); empty: paths."
    )
    url_max_mb: float = setting("url_max_mb", 20.0, "Largest input file fetched from an http(s) URL.")
    url_timeout_s: float = setting("url_timeout_s", 20.0, "Time limit of fetching one input URL.")
    url_allow_networks: list[str] = setting(
        "url_allow_networks", [], "Private networks input URLs may point to (CIDR); none by default."
    )
    threads: str = setting(
        "threads",
        "",
        "Durable threads: a SQLite file or a postgresql:// URL; empty: workspace/threads.sqlite.",
    )


SERVICE_FIELDS = (
    "controller",
    "catalogs",
    "hub_online",
    "runners",
    "inference_mode",
    "inference_provider",
    "inference_endpoint",
    "remote_timeout_s",
    "device",
    "max_parallel_tasks",
    "max_batch_size",
    "batch_wait_ms",
    "model_memory_mb",
)
"""The settings that decide which services (LLM, catalog, backends) a run uses; the rest are per run."""


class ConfigError(ValueError):
    """A configuration file or variable is wrong."""


@functools.cache
def configured() -> dict[str, Any]:
    """Return the settings of configs/default.yaml (or $HUGGINGGPT_CONFIG) and HUGGINGGPT_* variables.

    Read once per process: call it at start-up (importing `graph.builder` does), not on an event loop.

    Raises:
        ConfigError: naming the unknown key or the value that does not parse.
    """
    return read_settings(None)


def read_settings(config_path: str | os.PathLike[str] | None, **overrides: Any) -> dict[str, Any]:
    """Return the run settings of a file, then env vars (HUGGINGGPT_*), then ``overrides``, converted.

    Raises:
        ConfigError: naming the unknown key or the value that does not parse.
    """
    path = Path(config_path or os.environ.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_CONFIG)
    values = dict(read_file(path, required=bool(config_path)))
    for section in SECTIONS:
        values.pop(section, None)
    values.update(_from_env())
    values.update({key: value for key, value in overrides.items() if value is not None})
    unknown = sorted(set(values) - set(_BUILT_IN))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_BUILT_IN))}")
    return {name: _convert(name, value) for name, value in values.items()}


def read_file(path: Path, required: bool) -> dict[str, Any]:
    """Return a settings file's mapping ({} for a missing optional file).

    Raises:
        ConfigError: when a required file is missing, or the file is not a YAML mapping.
    """
    if not path.is_file():
        if required:
            raise ConfigError(f"config file not found: {path}")
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: cannot read settings ({error})") from error
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    return loaded


def load_context(config_path: str | os.PathLike[str] | None = None, **overrides: Any) -> Context:
    """Build a Context from the config file, then env vars (HUGGINGGPT_*), then explicit overrides.

    Args:
        config_path: a YAML file; defaults to configs/default.yaml (or $HUGGINGGPT_CONFIG).
        **overrides: field values that win over everything else (None values are ignored).

    Returns:
        The context.

    Raises:
        ConfigError: naming the unknown key or the value that does not parse.
    """
    return Context(**read_settings(config_path, **overrides))


def _from_env() -> dict[str, Any]:
    found = {}
    for item in fields(Context):
        raw = os.environ.get(ENV_PREFIX + item.name.upper())
        if raw is not None:
            found[item.name] = raw
    return found


def _convert(name: str, value: Any) -> Any:
    default = _BUILT_IN[name]
    try:
        if isinstance(default, bool):
            return (
                value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "on"}
            )
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, list):
            if isinstance(value, str):
                return [part.strip() for part in value.split(",") if part.strip()]
            if not isinstance(value, list | tuple):
                raise TypeError("expected a list")
            return [str(item) for item in value]
        if isinstance(default, str) and not isinstance(value, str):
            raise TypeError("expected text")
    except (TypeError, ValueError) as error:
        raise ConfigError(f"setting {name}: cannot use {value!r} ({error})") from error
    return value


def catalog_paths(context: Context) -> list[Path]:
    """Return the context's catalog files as absolute paths (relative ones are under configs/)."""
    return [Path(name) if Path(name).is_absolute() else CONFIG_DIR / name for name in context.catalogs]
