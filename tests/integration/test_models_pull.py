"""`hugginggpt models pull` end to end against a loopback Hub: the files land in the HF cache, offline-ready.

The stand-in answers the routes huggingface_hub's ``snapshot_download`` uses: the model info (its commit
``sha``), the recursive file tree at that commit, and ``HEAD``/``GET`` of each file under ``resolve`` with the
Hub's headers (``ETag``, ``X-Repo-Commit``, ``Content-Length``). A repo it does not hold gets the Hub's 404
with ``X-Error-Code: RepoNotFound``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from hugginggpt.cli import main
from tools.backends.availability import local_availability
from tools.models import ModelCard

REPO = "org/tiny"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
FILES = {
    "config.json": json.dumps({"model_type": "t5", "d_model": 8}).encode(),
    "README.md": b"# tiny\n\nA two-file repo served by the test Hub.\n",
}


def git_blob_id(content: bytes) -> str:
    """Return the git blob sha1 of ``content`` (the Hub's ETag of a file kept in git, not LFS)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class HubRepos:
    """What the loopback Hub serves, and the requests it saw.

    Attributes:
        repos: repo id -> (commit sha, file path -> content).
        requests: ``METHOD path`` of every request, in order.
    """

    repos: dict[str, tuple[str, dict[str, bytes]]]
    requests: list[str] = field(default_factory=list)

    def answer(self, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        """Return the status, headers and body the Hub would send for ``method path``."""
        self.requests.append(f"{method} {path}")
        parts = [unquote(part) for part in urlparse(path).path.strip("/").split("/")]
        if parts[:2] == ["api", "models"] and len(parts) >= 6:
            return self._api(f"{parts[2]}/{parts[3]}", parts[4], parts[5])
        if len(parts) >= 5 and parts[2] == "resolve":
            return self._resolve(f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]))
        return _json(404, {"error": "no such route"})

    def _api(self, repo: str, route: str, revision: str) -> tuple[int, dict[str, str], bytes]:
        if repo not in self.repos or revision not in ("main", self.repos[repo][0]):
            return _not_found(repo)
        commit, files = self.repos[repo]
        if route == "revision":
            siblings = [{"rfilename": name} for name in files]
            return _json(200, {"id": repo, "modelId": repo, "sha": commit, "siblings": siblings})
        if route == "tree":
            tree = [
                {"type": "file", "path": name, "size": len(content), "oid": git_blob_id(content)}
                for name, content in files.items()
            ]
            return _json(200, tree)
        return _json(404, {"error": f"no route {route}"})

    def _resolve(self, repo: str, revision: str, name: str) -> tuple[int, dict[str, str], bytes]:
        if repo not in self.repos or revision not in ("main", self.repos[repo][0]):
            return _not_found(repo)
        commit, files = self.repos[repo]
        if name not in files:
            status, headers, body = _json(404, {"error": "Entry not found"})
            return status, {**headers, "X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit}, body
        content = files[name]
        headers = {
            "Content-Type": "application/octet-stream",
            "ETag": f'"{git_blob_id(content)}"',
            "X-Repo-Commit": commit,
        }
        return 200, headers, content


def _json(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _not_found(repo: str) -> tuple[int, dict[str, str], bytes]:
    status, headers, body = _json(404, {"error": "Repository not found"})
    return status, {**headers, "X-Error-Code": "RepoNotFound", "X-Error-Message": f"{repo} not found"}, body


def serve(hub: HubRepos) -> ThreadingHTTPServer:
    """Return a loopback HTTP server (port 0) that answers HEAD and GET from ``hub``; not yet started."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

        def _reply(self, with_body: bool) -> None:
            status, headers, body = hub.answer(self.command, self.path)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            self._reply(with_body=False)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._reply(with_body=True)

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubRepos]:
    """Start the loopback Hub and point huggingface_hub at it, with a temporary cache and no token."""
    from huggingface_hub import constants

    repos = HubRepos({REPO: (COMMIT, FILES)})
    server = serve(repos)
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    )
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", True)  # never read a token file
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)  # no /api/agent-harnesses fetch
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield repos
    server.shutdown()
    server.server_close()


def test_pull_puts_the_repo_in_the_cache_and_makes_it_cached(
    hub: HubRepos, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = ModelCard(REPO, "summarization")
    assert local_availability(card, hub_online=False) is None

    assert main(["models", "pull", REPO]) == 0

    snapshot = tmp_path / "hf-cache" / "models--org--tiny" / "snapshots" / COMMIT
    for name, content in FILES.items():
        assert (snapshot / name).read_bytes() == content
    assert (tmp_path / "hf-cache" / "models--org--tiny" / "refs" / "main").read_text() == COMMIT
    assert local_availability(card, hub_online=False) == "cached"
    out = capsys.readouterr().out
    assert f"{REPO}: in the Hugging Face cache at" in out and str(snapshot.resolve()) in out
    files = [f"/{REPO}/resolve/{COMMIT}/{name}" for name in FILES]
    assert sorted(hub.requests) == sorted(
        [
            f"GET /api/models/{REPO}/revision/main",
            f"GET /api/models/{REPO}/tree/{COMMIT}?recursive=true&expand=false",
            *(f"HEAD {path}" for path in files),
            *(f"GET {path}" for path in files),
        ]
    )  # every request went to the stand-in, and nothing else was asked for


def test_pull_of_an_unknown_repo_fails_and_names_it(
    hub: HubRepos, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "pull", "org/nothing-here"]) == 1
    out = capsys.readouterr().out
    assert "could not download org/nothing-here" in out and "Repository Not Found" in out
    assert hub.requests == ["GET /api/models/org/nothing-here/revision/main"]
    assert not (tmp_path / "hf-cache" / "models--org--nothing-here" / "snapshots").exists()
