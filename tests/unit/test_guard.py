"""The server's guard in-process: API key, CORS only for configured origins, body limits, safe binding."""

from __future__ import annotations

import httpx
import pytest

from graph.context import ConfigError, Context
from graph.services import Services
from hugginggpt import cli
from hugginggpt.server import open_app
from hugginggpt.settings import ServeSettings, load_serve_settings
from tests.fakes import fake_resources

PLAN = [{"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "x"}}]
BODY = {"messages": [{"role": "user", "content": "go"}], "plan": PLAN}


def context(tmp_path):
    return Context(
        workspace_dir=str(tmp_path / "ws"), inputs_dir=str(tmp_path), threads=str(tmp_path / "t.sqlite")
    )


async def call(tmp_path, settings: ServeSettings, method: str, path: str, **kwargs) -> httpx.Response:
    services = Services.fixed(fake_resources(["ok"] * 5))
    async with open_app(context(tmp_path), settings, services) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)


async def test_with_an_api_key_requests_need_the_bearer_token(tmp_path):
    keyed = ServeSettings(api_key="s3cret")
    refused = await call(tmp_path, keyed, "POST", "/hugginggpt", json=BODY)
    assert refused.status_code == 401 and "Bearer" in refused.json()["detail"]
    wrong = await call(
        tmp_path, keyed, "POST", "/hugginggpt", json=BODY, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    allowed = await call(
        tmp_path, keyed, "POST", "/hugginggpt", json=BODY, headers={"Authorization": "Bearer s3cret"}
    )
    assert allowed.status_code == 200 and allowed.json()["message"].startswith("ok")
    assert (await call(tmp_path, keyed, "GET", "/health")).status_code == 200
    assert (await call(tmp_path, keyed, "POST", "/graph/invoke", json={"input": BODY})).status_code == 401


async def test_cors_only_for_the_configured_origins(tmp_path):
    preflight = {"Origin": "http://localhost:9999", "Access-Control-Request-Method": "POST"}
    settings = ServeSettings(cors_origins=("http://localhost:9999",))
    allowed = await call(tmp_path, settings, "OPTIONS", "/hugginggpt", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:9999"
    other = await call(
        tmp_path, settings, "OPTIONS", "/hugginggpt", headers={**preflight, "Origin": "http://evil"}
    )
    assert "access-control-allow-origin" not in other.headers
    closed = await call(tmp_path, ServeSettings(), "OPTIONS", "/hugginggpt", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers


async def test_bodies_over_the_limit_are_refused_even_without_a_length(tmp_path):
    small = ServeSettings(max_body_mb=0.001)

    async def chunks():
        for _ in range(8):
            yield b"x" * 500

    reply = await call(
        tmp_path, small, "POST", "/hugginggpt", content=chunks(), headers={"content-type": "application/json"}
    )
    assert reply.status_code == 413 and "limit" in reply.json()["detail"]


def test_binding_beyond_loopback_needs_an_api_key():
    with pytest.raises(ConfigError, match="HUGGINGGPT_API_KEY"):
        ServeSettings(host="0.0.0.0").checked()
    assert ServeSettings(host="0.0.0.0", api_key="k").checked().host == "0.0.0.0"
    assert ServeSettings(host="::1").checked().host == "::1"


def test_serve_refuses_to_start_on_a_public_address_without_a_key(monkeypatch, capsys):
    monkeypatch.delenv("HUGGINGGPT_API_KEY", raising=False)
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    assert "refusing to listen on 0.0.0.0 without an API key" in capsys.readouterr().err


def test_server_settings_come_from_env_and_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("HUGGINGGPT_CORS_ORIGINS", "http://a, http://b")
    monkeypatch.setenv("HUGGINGGPT_PORT", "9000")
    settings = load_serve_settings(None, port=9100)
    assert settings.cors_origins == ("http://a", "http://b") and settings.port == 9100
    (tmp_path / "s.yaml").write_text("server: {hots: 1}\n")
    with pytest.raises(ConfigError, match="unknown server setting"):
        load_serve_settings(tmp_path / "s.yaml")
