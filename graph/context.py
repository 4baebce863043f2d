"""Run-time configuration: a typed `Context` (shown in Studio), filled from configs/, env vars and flags."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "default.yaml"
ENV_PREFIX = "HUGGINGGPT_"


@dataclass(kw_only=True)
class Context:
    """Settings of one graph run. Each field can be set in configs/default.yaml or as HUGGINGGPT_<NAME>."""

    controller: str = field(
        default="local/smollm2",
        metadata={"description": "Controller LLM as provider/model: local/smollm2, openai/gpt-4o-mini, ..."},
    )
    catalogs: list[str] = field(
        default_factory=lambda: ["catalog.yaml", "catalog.offline.yaml"],
        metadata={"description": "Model catalog files (relative to configs/ or absolute)."},
    )
    hub_online: bool = field(
        default=False,
        metadata={"description": "Whether hub models that are not cached may be downloaded (candidates)."},
    )
    top_k: int = field(
        default=5, metadata={"description": "Candidate models shown to the selector per task."}
    )
    max_plan_retries: int = field(
        default=2, metadata={"description": "Planning calls allowed after the first, when a plan is invalid."}
    )
    max_attempts: int = field(
        default=2,
        metadata={"description": "Models tried per task (the chosen one, then the next candidates)."},
    )
    task_timeout_s: float = field(default=300.0, metadata={"description": "Time limit of one task attempt."})
    history_tokens: int = field(
        default=1200, metadata={"description": "Token budget of the chat history given to the planner."}
    )
    answer_max_tokens: int = field(
        default=300, metadata={"description": "Most tokens the controller may spend on the final answer."}
    )
    workspace_dir: str = field(default="workspace", metadata={"description": "Folder for each run's files."})
    inputs_dir: str = field(
        default=".", metadata={"description": "Folder relative input paths resolve against."}
    )
    device: str = field(default="auto", metadata={"description": "Device for local models: auto, cpu, cuda."})
    max_parallel_tasks: int = field(default=8, metadata={"description": "Local task calls running at once."})
    resources: Any = field(
        default=None,
        compare=False,
        repr=False,
        metadata={
            "description": "Injected services (LLM, catalog, backend); built from the fields when unset."
        },
    )

    def key(self) -> tuple[Any, ...]:
        """Return the fields that decide which services are built (everything but `resources`)."""
        return tuple(
            tuple(value) if isinstance(value, list) else value
            for name, value in dataclasses.asdict(self).items()
            if name != "resources"
        )


class ConfigError(ValueError):
    """A configuration file or variable is wrong."""


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
    path = Path(config_path or os.environ.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_CONFIG)
    values: dict[str, Any] = {}
    if path.is_file():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of settings")
        values.update(loaded)
    elif config_path:
        raise ConfigError(f"config file not found: {path}")
    values.update(_from_env())
    values.update({key: value for key, value in overrides.items() if value is not None})
    known = {f.name for f in fields(Context)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return Context(**{name: _convert(name, value) for name, value in values.items()})


def _from_env() -> dict[str, Any]:
    found = {}
    for item in fields(Context):
        raw = os.environ.get(ENV_PREFIX + item.name.upper())
        if raw is not None and item.name != "resources":
            found[item.name] = raw
    return found


def _convert(name: str, value: Any) -> Any:
    default = getattr(Context(), name)
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
            return (
                [part.strip() for part in value.split(",") if part.strip()]
                if isinstance(value, str)
                else list(value)
            )
    except (TypeError, ValueError) as error:
        raise ConfigError(f"setting {name}: cannot use {value!r} ({error})") from error
    return value


def catalog_paths(context: Context) -> list[Path]:
    """Return the context's catalog files as absolute paths (relative ones are under configs/)."""
    return [Path(name) if Path(name).is_absolute() else CONFIG_DIR / name for name in context.catalogs]
