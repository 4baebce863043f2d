"""`hugginggpt models`: the table of every task type, pull without a Hub, refresh from a loopback Hub."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from graph.context import Context
from hugginggpt.cli import main
from hugginggpt.models_cli import model_rows
from tests.fakes import fake_resources
from tools.catalog_refresh import NOT_HUB_TAGS, refresh_catalog
from tools.models import Catalog, ModelCard
from tools.registry import TASKS


def test_the_table_shows_every_task_type_and_how_to_get_missing_models() -> None:
    hub = ModelCard("org/summarizer", "summarization", downloads=10**9)  # not in the HF cache
    resources = fake_resources(catalog=Catalog((hub,)))
    rows = model_rows(resources)
    assert {row["task"] for row in rows} == set(TASKS)
    (summarizer,) = [row for row in rows if row["model"] == "org/summarizer"]
    assert summarizer["where"] == "missing" and summarizer["get"].startswith(
        "hugginggpt models pull org/summarizer"
    )
    assert all(row["get"] == "no catalog card" for row in rows if row["task"] != "summarization")
    resources.close()


def test_models_lists_the_offline_catalog_as_a_user_sees_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["task"] for row in rows} == set(TASKS)
    packaged = {row["task"] for row in rows if row["where"] == "packaged"}
    assert {"text-to-speech", "automatic-speech-recognition", "image-classification"} <= packaged
    assert main(["models", "--task", "summarization"]) == 0
    table = capsys.readouterr().out
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in table and "packaged" in table
    assert main(["models", "--task", "nope"]) == 2


def test_pull_without_the_hub_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "pull", "hustvl/yolos-tiny"]) == 1  # the tests run with HF_HUB_OFFLINE=1
    assert "HF_HUB_OFFLINE" in capsys.readouterr().out


class HubStandIn:
    """A loopback stand-in for the Hub's model listing: ``GET /api/models?pipeline_tag=T&sort=downloads``."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                url = urlparse(self.path)
                query = parse_qs(url.query)
                state.queries.append(query)
                tag = query.get("pipeline_tag", [""])[0]
                models = [
                    {
                        "id": f"org/{tag}-{rank}",
                        "downloads": 1000 - rank,
                        "likes": rank,
                        "library_name": "transformers",
                    }
                    for rank in range(int(query.get("limit", ["5"])[0]))
                ]
                body = json.dumps(models).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubStandIn]:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    stand_in = HubStandIn()
    thread = threading.Thread(target=stand_in.server.serve_forever, daemon=True)
    thread.start()
    yield stand_in
    stand_in.server.shutdown()


def test_refresh_rebuilds_the_catalog_from_the_hub(hub: HubStandIn, tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    kept = {
        "id": "lllyasviel/sd-controlnet-canny",
        "task": "canny-text-to-image",
        "options": {"base_model": "x"},
    }
    old = {"id": "org/summarization-0", "task": "summarization", "description": "mine", "options": {"a": 1}}
    path.write_text(yaml.safe_dump([kept, old]), encoding="utf-8")
    counts = refresh_catalog(path, top=2, endpoint=hub.url)
    assert set(counts) == set(TASKS) - NOT_HUB_TAGS and set(counts.values()) == {2}
    assert {query["pipeline_tag"][0] for query in hub.queries} == set(counts)
    assert all(query["sort"] == ["downloads"] for query in hub.queries)
    catalog = Catalog.from_files([path])  # the file is a valid catalog
    assert catalog.get("lllyasviel/sd-controlnet-canny") is not None  # a type the Hub has no tag for stays
    card = catalog.get("org/summarization-0", "summarization")
    assert (
        card is not None
        and card.description == "mine"
        and card.options == {"a": 1}
        and card.downloads == 1000
    )


def test_refresh_leaves_the_file_alone_when_the_hub_is_unreachable(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("- {id: a/b, task: summarization}\n", encoding="utf-8")
    with pytest.raises(OSError):
        refresh_catalog(path, top=1, endpoint="http://127.0.0.1:9")  # HF_HUB_OFFLINE=1 in tests, too
    assert path.read_text(encoding="utf-8") == "- {id: a/b, task: summarization}\n"
    assert Context().inference_mode == "local"
