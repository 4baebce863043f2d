"""The remote backend, with the real `InferenceClient`, against a loopback Inference API server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.hf_inference_payloads import png_bytes, wav_bytes
from tests.integration.hf_inference_server import InferenceServer, Reply, running_server
from tests.integration.remote_task_cases import ARGS, CHECKS
from tools.artifacts import InputError, Workspace
from tools.backends.remote import RemoteBackend, RemoteSettings
from tools.backends.remote_errors import RemoteError
from tools.backends.remote_tasks import REMOTE_TASKS
from tools.models import ModelCard
from tools.registry import TASKS
from tools.runners.base import Call

TOKEN = "hf_loopbacktesttoken"
FAST: dict[str, Any] = {"backoff_s": 0.01, "max_wait_s": 0.5, "timeout_s": 10.0}


@pytest.fixture
def hf_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[InferenceServer]:
    """Run the loopback server and point huggingface_hub's router and Hub API at it (requests allowed)."""
    from huggingface_hub import constants
    from huggingface_hub.inference._providers import PROVIDERS

    with running_server() as server:
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "ENDPOINT", server.base_url)
        monkeypatch.setattr(constants, "INFERENCE_PROXY_TEMPLATE", server.base_url + "/{provider}")
        for helper in PROVIDERS["hf-inference"].values():  # their base URL is fixed when the module loads
            monkeypatch.setattr(helper, "base_url", f"{server.base_url}/hf-inference")
        yield server


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "photo.png").write_bytes(png_bytes())
    (inputs / "clip.wav").write_bytes(wav_bytes())
    (inputs / "people.csv").write_text("name,age\nann,36\nbob,41\n", encoding="utf-8")
    return Workspace.for_run(tmp_path / "runs", "run1", base=inputs)


def _call(workspace: Workspace, task: str, **options: Any) -> Call:
    history = (("user", "Hello"), ("assistant", "Hi! How can I help?")) if task == "conversational" else ()
    return Call(dict(ARGS[task]), workspace, f"task0-{task}", options=options, history=history)


PROVIDERS = {"text-to-video": "novita"}
"""Tasks that provider hf-inference does not offer, and the provider the tests call them on."""


def _backend(**settings: Any) -> RemoteBackend:
    return RemoteBackend(RemoteSettings(token=TOKEN, **{**FAST, **settings}))


def test_the_table_covers_every_registry_task_the_client_offers(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    assert not _backend().can_run(ModelCard("org/m", "summarization"))  # HF_HUB_OFFLINE: no request may leave
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    assert set(REMOTE_TASKS) == set(ARGS) == set(CHECKS)
    assert set(REMOTE_TASKS) <= set(TASKS)
    backend = _backend()
    assert not backend.serves("depth-estimation") and not backend.serves("canny-control")
    assert backend.can_run(ModelCard("org/m", "summarization"))
    assert not backend.can_run(ModelCard("org/m", "summarization", source="path", path="/models/m"))
    assert not backend.can_run(ModelCard("org/m", "canny-text-to-image"))
    assert not backend.can_run(ModelCard("org/m", "text-to-video"))  # hf-inference offers no text-to-video
    assert _backend(provider="novita").can_run(ModelCard("org/m", "text-to-video"))
    assert _backend(provider="auto").can_run(ModelCard("org/m", "text-to-video"))
    assert not _backend(endpoint_url="http://127.0.0.1:1/x").can_run(ModelCard("org/m", "text-to-video"))
    backend.close()


@pytest.mark.parametrize("task", sorted(ARGS))
async def test_every_task_runs_and_gives_the_local_runners_output(
    task: str, hf_server: InferenceServer, workspace: Workspace
) -> None:
    backend = _backend(provider=PROVIDERS.get(task, "hf-inference"))
    assert backend.can_run(ModelCard(f"test/{task}", task))
    try:
        output = await backend.run(ModelCard(f"test/{task}", task), _call(workspace, task))
    finally:
        backend.close()
    assert CHECKS[task](output), output
    (sent,) = hf_server.inference_requests()
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.model == f"test/{task}"


async def _sent(hf_server: InferenceServer, workspace: Workspace, task: str, **options: Any) -> Any:
    backend = _backend()
    try:
        await backend.run(ModelCard(f"test/{task}", task), _call(workspace, task, **options))
    finally:
        backend.close()
    return hf_server.inference_requests()[-1]


async def test_requests_have_the_api_routes_and_bodies(
    hf_server: InferenceServer, workspace: Workspace
) -> None:
    sent = await _sent(hf_server, workspace, "text-classification")
    assert sent.path == "/hf-inference/models/test/text-classification"
    assert sent.json == {"inputs": "I love this.", "parameters": {"top_k": 5}}

    sent = await _sent(hf_server, workspace, "conversational", max_tokens=32)
    assert sent.path == "/hf-inference/models/test/conversational/v1/chat/completions"
    assert [m["role"] for m in sent.json["messages"]] == ["user", "assistant", "user"]
    assert sent.json["messages"][-1]["content"] == "Hi there" and sent.json["max_tokens"] == 32

    sent = await _sent(hf_server, workspace, "sentence-similarity")
    assert sent.path.endswith("/pipeline/sentence-similarity")
    assert sent.json["inputs"] == {"source_sentence": "A cat.", "sentences": ["A kitten."]}

    sent = await _sent(hf_server, workspace, "table-question-answering")
    assert sent.json["inputs"] == {
        "query": "What is the average age?",
        "table": {"name": ["ann", "bob"], "age": ["36", "41"]},
    }

    sent = await _sent(hf_server, workspace, "translation")
    assert sent.json["parameters"] == {"src_lang": "en", "tgt_lang": "fr"}
    workspace_call = _call(workspace, "translation", lang_codes={"french": "fra_Latn"}, src_lang="eng_Latn")
    workspace_call.args["target"] = "French"
    backend = _backend()
    await backend.run(ModelCard("test/translation", "translation"), workspace_call)
    backend.close()
    assert hf_server.inference_requests()[-1].json["parameters"] == {
        "src_lang": "eng_Latn",
        "tgt_lang": "fra_Latn",
    }

    sent = await _sent(hf_server, workspace, "image-classification")
    assert sent.json["parameters"] == {"top_k": 5} and isinstance(sent.json["inputs"], str)  # base64 image

    sent = await _sent(hf_server, workspace, "image-to-text")
    assert (
        sent.body == png_bytes() and sent.headers["content-type"] == "image/png"
    )  # raw bytes, no parameters


async def test_endpoint_mode_sends_every_call_to_the_endpoint(
    hf_server: InferenceServer, workspace: Workspace
) -> None:
    for task in ("summarization", "conversational"):
        backend = _backend(endpoint_url=hf_server.endpoint_url(task))
        output = await backend.run(ModelCard("org/any-model", task), _call(workspace, task))
        backend.close()
        assert CHECKS[task](output)
    paths = [request.path for request in hf_server.requests]
    assert paths == ["/endpoint/summarization", "/endpoint/conversational/v1/chat/completions"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in hf_server.requests)


async def _failure(hf_server: InferenceServer, workspace: Workspace, *replies: Reply, **settings: Any) -> str:
    hf_server.script("test/text-classification", *replies, forever=bool(settings.pop("forever", False)))
    backend = _backend(**settings)
    try:
        with pytest.raises(RemoteError) as caught:
            await backend.run(
                ModelCard("test/text-classification", "text-classification"),
                _call(workspace, "text-classification"),
            )
    finally:
        backend.close()
    message = str(caught.value)
    assert "test/text-classification" in message and "provider hf-inference" in message
    return message


async def test_auth_and_not_found_errors_say_what_to_do(
    hf_server: InferenceServer, workspace: Workspace
) -> None:
    message = await _failure(
        hf_server, workspace, Reply(401, {"error": "Invalid credentials in Authorization header"})
    )
    assert "HF_TOKEN" in message and "401" in message
    message = await _failure(
        hf_server, workspace, Reply(404, {"error": "Model test/text-classification does not exist"})
    )
    assert "not served" in message and "does not exist" in message
    message = await _failure(hf_server, workspace, Reply(500, {"error": "CUDA out of memory"}))
    assert "HTTP 500" in message and "CUDA out of memory" in message
    assert len(hf_server.inference_requests()) == 3  # none of them retried


async def test_rate_limits_are_retried_then_reported(
    hf_server: InferenceServer, workspace: Workspace
) -> None:
    limited = Reply(429, {"error": "Rate limit reached"}, headers={"Retry-After": "0.05"})
    hf_server.script("test/text-classification", limited, limited)
    backend = _backend()
    output = await backend.run(
        ModelCard("test/text-classification", "text-classification"), _call(workspace, "text-classification")
    )
    backend.close()
    assert output.data["labels"] and len(hf_server.inference_requests()) == 3

    message = await _failure(
        hf_server, workspace, Reply(429, {"error": "Rate limit reached"}), forever=True, max_retries=2
    )
    assert "rate limited" in message and "2 retries" in message
    assert len(hf_server.inference_requests()) == 3 + 3


async def test_a_loading_model_is_waited_for_within_the_bound(
    hf_server: InferenceServer, workspace: Workspace
) -> None:
    loading = Reply(
        503, {"error": "Model test/text-classification is currently loading", "estimated_time": 0.05}
    )
    hf_server.script("test/text-classification", loading)
    backend = _backend()
    output = await backend.run(
        ModelCard("test/text-classification", "text-classification"), _call(workspace, "text-classification")
    )
    backend.close()
    assert output.data["labels"] and len(hf_server.inference_requests()) == 2

    started = time.perf_counter()
    message = await _failure(hf_server, workspace, loading, forever=True, max_wait_s=0.3)
    assert time.perf_counter() - started < 3.0
    assert "still loading" in message and "currently loading" in message


async def test_a_timeout_names_its_limit(hf_server: InferenceServer, workspace: Workspace) -> None:
    message = await _failure(hf_server, workspace, Reply(delay_s=1.0, canned=True), timeout_s=0.3)
    assert "timed out after 0.3s" in message


async def test_a_missing_token_is_reported(hf_server: InferenceServer, workspace: Workspace) -> None:
    hf_server.script("test/text-classification", Reply(401, {"error": "Invalid username or password."}))
    backend = RemoteBackend(RemoteSettings(token=None, **FAST))
    with pytest.raises(RemoteError, match="HF_TOKEN"):
        await backend.run(
            ModelCard("test/text-classification", "text-classification"),
            _call(workspace, "text-classification"),
        )
    backend.close()
    assert "authorization" not in hf_server.inference_requests()[0].headers


async def test_a_bad_input_fails_before_any_request(hf_server: InferenceServer, workspace: Workspace) -> None:
    backend = _backend()
    call = _call(workspace, "image-classification")
    call.args["image"] = "missing.png"
    with pytest.raises(InputError, match="missing.png"):
        await backend.run(ModelCard("test/image-classification", "image-classification"), call)
    backend.close()
    assert hf_server.requests == []


async def test_waiting_for_the_server_does_not_block_the_event_loop(
    hf_server: InferenceServer, workspace: Workspace
) -> None:
    hf_server.script("test/text-classification", Reply(delay_s=0.3, canned=True))
    backend = _backend()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    await backend.run(
        ModelCard("test/text-classification", "text-classification"), _call(workspace, "text-classification")
    )
    ticker.cancel()
    backend.close()
    assert ticks >= 10


async def test_a_hybrid_run_falls_back_from_a_failing_remote_model_to_a_local_one(
    hf_server: InferenceServer, tmp_path: Path
) -> None:
    from tests.fakes import fake_card, fake_catalog, make_harness

    hf_server.script(
        "test/summarization", Reply(503, {"error": "loading", "estimated_time": 60}), forever=True
    )
    remote_card = ModelCard("test/summarization", "summarization", downloads=10**9)  # hub, not cached
    catalog = fake_catalog([remote_card, fake_card("local/summarizer", "summarization", downloads=10**6)])
    harness = make_harness(tmp_path, ["ok"], catalog=catalog, remote=_backend(max_wait_s=0.2), top_k=2)
    assert harness.resources.backend.mode == "hybrid"
    assert harness.resources.backend.where(remote_card) == "remote"
    plan = [{"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "A long text."}}]
    state = await harness.run("summarize", plan=plan)
    (result,) = state["results"]
    assert result["status"] == "done" and result["model"] == "local/summarizer"
    failed = result["attempts"][0]
    assert failed["model"] == "test/summarization" and "loading" in failed["error"]
    assert hf_server.inference_requests("test/summarization")  # the remote model was really tried
    harness.resources.close()
