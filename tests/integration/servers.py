"""Real server processes for tests: `hugginggpt serve` and `langgraph dev` on free loopback ports."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes import fake_catalog_file
from tests.integration.openai_server import ScriptedOpenAIServer

REPO = Path(__file__).resolve().parents[2]
ANSWER = "Here is what the models found."
"""What the scripted controller of the module-wide server answers when its script is used up."""
BIN = Path(sys.executable).parent


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fake_settings(tmp: Path, extra_cards: Sequence[dict[str, Any]] = (), **settings: Any) -> Path:
    """Write a settings file: the scripted OpenAI server as controller, fake models, files under ``tmp``."""
    catalog = fake_catalog_file(tmp / "catalog.yaml", extra_cards)
    values = {
        "controller": "openai/scripted-model",
        "catalogs": [str(catalog)],
        "runners": ["tests.fakes:fake_runners"],
        "workspace_dir": str(tmp / "workspace"),
        "inputs_dir": str(tmp / "inputs"),
        "device": "cpu",
        **settings,
    }
    (tmp / "inputs").mkdir(parents=True, exist_ok=True)
    path = tmp / "settings.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def server_env(openai_url: str, **extra: str) -> dict[str, str]:
    """Return the environment of a server process: offline, no tracing, the scripted controller."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("LANGSMITH_", "LANGCHAIN_"))
    }
    env.update(
        {
            "OPENAI_BASE_URL": openai_url,
            "OPENAI_API_KEY": "test-key",
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "LANGGRAPH_CLI_NO_ANALYTICS": "1",
            "LANGGRAPH_NO_VERSION_CHECK": "1",
        }
    )
    env.pop("HUGGINGGPT_CONTROLLER", None)
    env.update(extra)
    return env


class ServerProcess:
    """A server started as a child process; ``url`` is known once its log says where it listens."""

    def __init__(
        self, command: Sequence[str], env: dict[str, str], cwd: Path, ready: str, timeout_s: float
    ) -> None:
        self.log: list[str] = []
        self.home = cwd
        self.process = subprocess.Popen(
            list(command), env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._ready = re.compile(ready)
        self._found = threading.Event()
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()
        if not self._found.wait(timeout_s):
            self.kill()
            raise RuntimeError(f"server did not start in {timeout_s}s:\n" + "".join(self.log[-60:]))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line)
            match = self._ready.search(line)
            if match and not self._found.is_set():
                self.url = match.group(1)
                self._found.set()

    def output(self) -> str:
        """Return everything the server printed so far."""
        return "".join(self.log)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        """Stop the server cleanly (SIGTERM) and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.wait()


def start_serve(settings: Path, env: dict[str, str], *args: str, timeout_s: float = 60) -> ServerProcess:
    """Start ``hugginggpt --config SETTINGS serve --port 0`` and wait until it listens."""
    command = [str(BIN / "hugginggpt"), "--config", str(settings), "serve", "--port", "0", *args]
    return ServerProcess(command, env, REPO, r"Uvicorn running on (http://[\d.]+:\d+)", timeout_s)


def wait_for(predicate: Any, timeout_s: float, what: str, interval_s: float = 0.05) -> None:
    """Wait until ``predicate()`` is true, or fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


@pytest.fixture(scope="module")
def controller() -> Iterator[ScriptedOpenAIServer]:
    """A scripted OpenAI-compatible controller for a module's server; it answers `ANSWER` by default."""
    with ScriptedOpenAIServer(default=ANSWER) as server:
        yield server


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, controller: ScriptedOpenAIServer
) -> Iterator[ServerProcess]:
    """`hugginggpt serve` on fake models for a whole module; ``home`` is its folder (inputs under it)."""
    tmp = tmp_path_factory.mktemp("serve")
    process = start_serve(fake_settings(tmp), server_env(controller.url))
    process.home = tmp
    yield process
    assert process.stop() in (0, -signal.SIGTERM), process.output()
