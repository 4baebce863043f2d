"""Settings of `hugginggpt serve`: where it listens, who may call it, how much it accepts.

They come from the ``server:`` section of the settings file, then ``HUGGINGGPT_HOST``, ``HUGGINGGPT_PORT``,
``HUGGINGGPT_API_KEY``, ``HUGGINGGPT_CORS_ORIGINS``, ``HUGGINGGPT_MAX_BODY_MB``, ``HUGGINGGPT_MAX_UPLOAD_MB``,
then command-line flags. Safe by default: loopback only; any other address needs an API key.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from graph.context import DEFAULT_CONFIG, ENV_PREFIX, ConfigError, read_file

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class ServeSettings:
    """How the server listens and what it accepts.

    Attributes:
        host: the address to bind (127.0.0.1 by default).
        port: the port (8004, as the original HuggingGPT server).
        api_key: the bearer token every request must carry; required off loopback.
        cors_origins: browser origins allowed to call the API (none by default).
        max_body_mb: the largest JSON request body.
        max_upload_mb: the largest uploaded file.
        controllers: controllers the web UI offers besides the configured one and the installed embedded
            ones (e.g. ``openai/gpt-4o-mini``).
    """

    host: str = "127.0.0.1"
    port: int = 8004
    api_key: str = ""
    cors_origins: tuple[str, ...] = ()
    max_body_mb: float = 1.0
    max_upload_mb: float = 50.0
    controllers: tuple[str, ...] = ()

    @property
    def max_body_bytes(self) -> int:
        """Return the body limit in bytes."""
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def max_upload_bytes(self) -> int:
        """Return the upload limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    def checked(self) -> ServeSettings:
        """Return these settings if the server may start with them.

        Raises:
            ConfigError: when the host is not loopback and no API key is set, or a limit is not positive.
        """
        if not is_loopback(self.host) and not self.api_key:
            raise ConfigError(
                f"refusing to listen on {self.host} without an API key: set HUGGINGGPT_API_KEY "
                "(clients send it as 'Authorization: Bearer <key>'), or bind 127.0.0.1"
            )
        if self.max_body_mb <= 0 or self.max_upload_mb <= 0 or not 0 <= self.port < 65536:
            raise ConfigError("server limits must be positive and the port within 0-65535")
        return self


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` names only this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_serve_settings(config_path: str | os.PathLike[str] | None = None, **overrides: Any) -> ServeSettings:
    """Return the server settings of the settings file, then env vars, then ``overrides`` (None ignored).

    Raises:
        ConfigError: naming an unknown key or a value that does not parse.
    """
    path = Path(config_path or os.environ.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_CONFIG)
    section = read_file(path, required=bool(config_path)).get("server") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: `server` must be a mapping")
    known = {item.name for item in fields(ServeSettings)}
    values: dict[str, Any] = dict(section)
    for name in known:
        raw = os.environ.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = raw
    values.update({key: value for key, value in overrides.items() if value is not None})
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"unknown server setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return replace(ServeSettings(), **{name: _convert(name, value) for name, value in values.items()})


def _convert(name: str, value: Any) -> Any:
    default = getattr(ServeSettings(), name)
    try:
        if isinstance(default, tuple):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(item).strip() for item in items if str(item).strip())
        return type(default)(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"server setting {name}: cannot use {value!r} ({error})") from error
