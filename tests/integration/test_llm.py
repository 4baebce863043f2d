"""load_chat_model over real HTTP (ChatOpenAI against a scripted loopback server) and the embedded model."""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Literal

import openai
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError

from graph.llm import DEFAULT_CONTROLLER, PLACEHOLDER_API_KEY, controller_from_env, load_chat_model
from tests.integration.openai_server import Failure, ScriptedOpenAIServer, ToolCall

# The fixture, bound here too so that this module runs whether or not a conftest imports it.


class Verdict(BaseModel):
    """A label for the input and how sure the model is."""

    label: str = Field(description="One word.")
    score: float = Field(description="Between 0 and 1.")


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "HUGGINGGPT_CONTROLLER"):
        monkeypatch.delenv(name, raising=False)


def _chat(server: ScriptedOpenAIServer, **overrides):
    return load_chat_model("openai/test-model", base_url=server.url, max_retries=0, **overrides)


# --- ChatOpenAI over HTTP -------------------------------------------------------------------------------


def test_plain_invoke_sends_model_messages_and_placeholder_key(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.script("Hello there.")
    reply = _chat(openai_server).invoke([SystemMessage("Be brief."), HumanMessage("Hi")])
    assert isinstance(reply, AIMessage)
    assert reply.content == "Hello there."
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == 2
    [request] = openai_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {PLACEHOLDER_API_KEY}"
    assert request.body["model"] == "test-model"
    assert request.body["temperature"] == 0
    assert [m["role"] for m in request.body["messages"]] == ["system", "user"]


def test_base_url_and_key_from_env(
    openai_server: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    openai_server.script("ok")
    assert load_chat_model("openai/other-model", max_retries=0).invoke("Hi").content == "ok"
    assert openai_server.requests[0].headers["authorization"] == "Bearer sk-test"
    assert openai_server.requests[0].body["model"] == "other-model"


def test_streaming_yields_several_chunks(openai_server: ScriptedOpenAIServer) -> None:
    text = "one two three four"
    openai_server.script(text)
    chunks = list(_chat(openai_server).stream("Count"))
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    assert len([chunk for chunk in chunks if chunk.content]) >= 4
    assert "".join(str(chunk.content) for chunk in chunks) == text
    assert openai_server.bodies[0]["stream"] is True


async def test_async_streaming(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.script("alpha beta")
    pieces = [chunk.content async for chunk in _chat(openai_server).astream("Go")]
    assert "".join(map(str, pieces)) == "alpha beta"


def test_structured_output_json_schema(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.script({"label": "cat", "score": 0.9})
    result = _chat(openai_server).with_structured_output(Verdict).invoke("What is it?")
    assert isinstance(result, Verdict)
    response_format = openai_server.bodies[0]["response_format"]
    assert response_format["type"] == "json_schema"
    assert set(response_format["json_schema"]["schema"]["properties"]) == {"label", "score"}
    assert "tools" not in openai_server.bodies[0]


def test_structured_output_function_calling(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.script({"label": "dog", "score": 0.5})
    structured = _chat(openai_server).with_structured_output(Verdict, method="function_calling")
    result = structured.invoke("What is it?")
    assert isinstance(result, Verdict)
    body = openai_server.bodies[0]
    assert [tool["function"]["name"] for tool in body["tools"]] == ["Verdict"]
    assert "response_format" not in body


def test_structured_output_include_raw_reports_invalid_arguments(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.script(ToolCall({"label": "cat"}))  # no score
    structured = _chat(openai_server).with_structured_output(
        Verdict, method="function_calling", include_raw=True
    )
    out = structured.invoke("What is it?")
    assert set(out) == {"raw", "parsed", "parsing_error"}
    assert out["parsed"] is None and out["parsing_error"] is not None
    assert isinstance(out["raw"], AIMessage)


def test_json_schema_method_raises_on_non_json_even_with_include_raw(
    openai_server: ScriptedOpenAIServer,
) -> None:
    # The openai SDK parses json_schema replies inside the `raw` step, where include_raw cannot catch it:
    # callers must handle ValidationError (only a server that ignores response_format sends such replies).
    openai_server.script("this is not JSON")
    with pytest.raises(ValidationError, match="Invalid JSON"):
        _chat(openai_server).with_structured_output(Verdict, include_raw=True).invoke("What is it?")


def test_explicit_tool_call_through_bind_tools(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.script(ToolCall({"label": "bird", "score": 0.1}))
    reply = _chat(openai_server).bind_tools([Verdict]).invoke("Classify")
    assert [call["name"] for call in reply.tool_calls] == ["Verdict"]
    assert reply.tool_calls[0]["args"] == {"label": "bird", "score": 0.1}


def test_streamed_tool_call(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.script(ToolCall({"label": "fish", "score": 0.3}))
    chunks = list(_chat(openai_server).bind_tools([Verdict]).stream("Classify"))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.tool_calls[0]["args"] == {"label": "fish", "score": 0.3}


def test_server_errors_reach_the_client(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.script(Failure(400, "bad request"))
    with pytest.raises(openai.BadRequestError):
        _chat(openai_server).invoke("Hi")
    with pytest.raises(openai.BadRequestError, match="no reply left"):
        _chat(openai_server).invoke("Hi")


# --- specs and errors ----------------------------------------------------------------------------------


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known providers: openai, azure, huggingface, local"):
        load_chat_model("anthropic/claude")


def test_spec_without_model_is_rejected() -> None:
    with pytest.raises(ValueError, match="provider/model"):
        load_chat_model("openai")


def test_openai_without_key_or_base_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        load_chat_model("openai/gpt-4o-mini")


def test_local_missing_gguf_file(tmp_path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(FileNotFoundError, match="nope.gguf"):
        load_chat_model(f"local/{missing}")


def test_local_unknown_name() -> None:
    with pytest.raises(ValueError, match="local/smollm2"):
        load_chat_model("local/llama-70b")


def test_embedded_model_with_missing_file_fails_on_first_call(tmp_path) -> None:
    from graph.embedded import EmbeddedChatModel

    model = EmbeddedChatModel(model_path=str(tmp_path / "gone.gguf"))  # constructing loads nothing
    with pytest.raises(FileNotFoundError, match="gone.gguf"):
        model.invoke("Hi")
    with pytest.raises(FileNotFoundError, match="gone.gguf"):
        list(model.stream("Hi"))


def test_controller_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert controller_from_env() == DEFAULT_CONTROLLER == "local/qwen2.5-coder-1.5b"
    monkeypatch.setenv("HUGGINGGPT_CONTROLLER", "openai/gpt-4o-mini")
    assert controller_from_env() == "openai/gpt-4o-mini"


def test_azure_builds_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://example.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "key")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    model = load_chat_model("azure/my-deployment")
    assert type(model).__name__ == "AzureChatOpenAI"
    assert model.deployment_name == "my-deployment"


@pytest.mark.skipif(
    importlib.util.find_spec("langchain_huggingface") is None, reason="no 'huggingface' extra"
)
def test_huggingface_builds_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    model = load_chat_model("huggingface/HuggingFaceTB/SmolLM3-3B", provider="auto")
    assert type(model).__name__ == "ChatHuggingFace"
    assert model.model_id == "HuggingFaceTB/SmolLM3-3B"
    assert model.temperature == 0


# --- the embedded llama.cpp model ------------------------------------------------------------------------


def _embedded_missing() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed"
    from tools.packaged import PackageMissingError, smollm2_gguf

    try:
        smollm2_gguf()
    except PackageMissingError as exc:
        return str(exc)
    return None


_EMBEDDED_SKIP = _embedded_missing()
embedded = pytest.mark.skipif(_EMBEDDED_SKIP is not None, reason=_EMBEDDED_SKIP or "")


class City(BaseModel):
    """A city and the country it is in."""

    city: str = Field(max_length=40)
    country: Literal["France", "Germany", "Italy", "Spain"]


class Args(BaseModel):
    """Inputs of one task."""

    text: str | None = Field(default=None, max_length=120)
    image: str | None = Field(default=None, max_length=60)


class Step(BaseModel):
    """One task of a plan."""

    task: Literal["image-to-text", "text-to-speech", "summarization"]
    id: int
    dep: list[int] = Field(max_length=3)
    args: Args


class Plan(BaseModel):
    """The tasks to run."""

    tasks: list[Step] = Field(min_length=1, max_length=3)


@pytest.fixture(scope="module")
def smollm2():
    return load_chat_model("local/smollm2", n_ctx=2048, max_tokens=256)


@pytest.mark.embedded
@embedded
def test_embedded_loads_lazily() -> None:
    model = load_chat_model("local/smollm2")
    assert model._llm_type == "llama-cpp-embedded"
    assert model._llama is None


@pytest.mark.embedded
@embedded
def test_embedded_structured_output(smollm2) -> None:
    result = smollm2.with_structured_output(City).invoke("Name the capital of France.")
    assert isinstance(result, City)


@pytest.mark.embedded
@embedded
def test_embedded_nested_schema_with_refs(smollm2) -> None:
    out = smollm2.with_structured_output(Plan, include_raw=True).invoke(
        [SystemMessage("Plan tasks as JSON."), HumanMessage("Describe a.jpg, then read it aloud.")]
    )
    assert out["parsing_error"] is None
    assert isinstance(out["parsed"], Plan)
    assert 1 <= len(out["parsed"].tasks) <= 3
    usage = out["raw"].usage_metadata
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0


@pytest.mark.embedded
@embedded
def test_embedded_dict_schema(smollm2) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string", "maxLength": 40}, "sure": {"type": "boolean"}},
        "required": ["answer", "sure"],
    }
    result = smollm2.with_structured_output(schema).invoke("Is water wet?")
    assert isinstance(result, dict) and set(result) == {"answer", "sure"}


@pytest.mark.embedded
@embedded
def test_embedded_streaming(smollm2) -> None:
    chunks = list(smollm2.stream("Say hello in five words.", max_tokens=16))
    assert len([chunk for chunk in chunks if chunk.content]) > 1
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.content
    assert merged.usage_metadata["output_tokens"] >= 1
    assert merged.usage_metadata["input_tokens"] > 0


@pytest.mark.embedded
@embedded
async def test_embedded_concurrent_async_calls(smollm2) -> None:
    replies = await asyncio.gather(*(smollm2.ainvoke(f"Say {word}.", max_tokens=8) for word in ("yes", "no")))
    assert all(isinstance(reply, AIMessage) and reply.content for reply in replies)


@pytest.mark.embedded
@embedded
def test_embedded_stream_stopped_early_frees_the_model(smollm2) -> None:
    for _chunk in smollm2.stream("Count from one to fifty.", max_tokens=64):
        break
    assert smollm2.invoke("Say yes.", max_tokens=4).content


class Pick(BaseModel):
    label: str
    score: float


@pytest.mark.parametrize(
    ("rejects", "formats"),
    [
        (frozenset({"json_schema"}), ["json_schema", "json_object"]),  # llama-cpp-python's server
        (frozenset({"json_schema", "json_object"}), ["json_schema", "json_object", None]),  # plain text only
    ],
)
async def test_a_server_that_rejects_json_schema_still_gets_valid_replies(rejects, formats) -> None:
    from graph.structured import ask

    with ScriptedOpenAIServer(default={"label": "cat", "score": 0.9}, rejects=rejects) as server:
        llm = _chat(server)
        cache: dict = {}
        first = await ask(llm, Pick, [HumanMessage("What is it?")], cache=cache)
        assert first.parsed == Pick(label="cat", score=0.9)
        sent = [(body.get("response_format") or {}).get("type") for body in server.bodies]
        assert sent == formats
        if formats[-1] != "json_schema":  # the schema travels in the prompt when the server cannot enforce it
            assert '"label"' in server.bodies[-1]["messages"][-1]["content"]
        await ask(llm, Pick, [HumanMessage("And this one?")], cache=cache)
        assert (server.bodies[-1].get("response_format") or {}).get("type") == formats[-1]  # remembered
        assert len(server.bodies) == len(formats) + 1


async def test_planning_through_a_llama_cpp_style_server_that_rejects_json_schema() -> None:
    from graph.context import Context
    from graph.plan import make_plan

    plan = {"tasks": [{"id": 0, "task": "summarization", "dep": [-1], "args": {"text": "a long text"}}]}
    with ScriptedOpenAIServer(default=plan, rejects=frozenset({"json_schema"})) as server:
        tasks, attempts, error = await make_plan("Summarize: a long text", [], _chat(server), Context(), {})
    assert error is None and attempts == 1
    assert [task["task"] for task in tasks] == ["summarization"]
