"""An in-process chat model over a GGUF file (llama-cpp-python), with grammar-constrained JSON output."""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ChatMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from pydantic import BaseModel, Field, PrivateAttr

from tools import llama

logger = logging.getLogger(__name__)

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}


@dataclass(frozen=True)
class _StreamEnd:
    """The end of a streamed reply: its token counts and why it stopped."""

    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None


class EmbeddedChatModel(BaseChatModel):
    """A chat model that runs a GGUF file in this process through ``llama_cpp.Llama``.

    The model loads on the first call, never in the constructor. Every llama.cpp call of the process runs
    on the llama.cpp thread (see `tools.llama`), which also serialises access to the non-thread-safe
    ``Llama``;
    async calls wait for it from LangChain's executor threads.
    """

    model_path: str = Field(description="Path of the .gguf file.")
    n_ctx: int = Field(default=4096, description="Context window in tokens.")
    n_threads: int | None = Field(default_factory=os.cpu_count, description="CPU threads for decoding.")
    seed: int = Field(default=0, description="Sampler seed (only matters when temperature > 0).")
    temperature: float = Field(default=0.0, description="Sampling temperature; 0 decodes greedily.")
    max_tokens: int = Field(default=1024, description="Most tokens generated per reply.")
    chat_format: str | None = Field(
        default=None, description="llama.cpp chat format; None uses the template stored in the GGUF file."
    )
    extra_buffers: bool = Field(
        default=False,
        description=(
            "Let llama.cpp repack weights into extra CPU buffer types (AMX, repack). Off because the AMX "
            "kernels crash (SIGSEGV) on multi-token batches in VMs that advertise AMX, e.g. Firecracker."
        ),
    )
    repeat_penalty: float = Field(
        default=1.15,
        description="Penalty on repeated tokens in free-text replies (small models loop without it).",
    )
    verbose: bool = Field(default=False, description="Let llama.cpp log to stderr.")

    _llama: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-embedded"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "temperature": self.temperature}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._request(messages, stop, kwargs)
        response = llama.call(self._complete, request)
        choice = response["choices"][0]
        usage = _usage(response.get("usage") or {})
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata=usage,
            response_metadata={"finish_reason": choice.get("finish_reason"), "model_name": self._model_name},
        )
        return ChatResult(generations=[ChatGeneration(message=message)], llm_output={"token_usage": usage})

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        parts: queue.SimpleQueue[str | _StreamEnd | BaseException] = queue.SimpleQueue()
        cancel = threading.Event()
        llama.submit(self._produce, self._request(messages, stop, kwargs), parts, cancel)
        try:
            while not isinstance(item := parts.get(), _StreamEnd):
                if isinstance(item, BaseException):
                    raise item
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=item))
                if run_manager:
                    run_manager.on_llm_new_token(item, chunk=chunk)
                yield chunk
        finally:
            cancel.set()  # a consumer that stops early frees the worker
        last = AIMessageChunk(
            content="",
            usage_metadata=_usage(
                {"prompt_tokens": item.prompt_tokens, "completion_tokens": item.completion_tokens}
            ),
            response_metadata={"finish_reason": item.finish_reason, "model_name": self._model_name},
            chunk_position="last",
        )
        yield ChatGenerationChunk(message=last)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Return a runnable whose replies are constrained by llama.cpp's grammar to match ``schema``.

        The JSON schema becomes a GBNF grammar (``$defs``/``$ref``, enums, ``maxItems``, ``maxLength`` and
        ``additionalProperties`` are supported), so the reply parses unless it hits ``max_tokens``; it is
        then validated. Bound what a small model could repeat forever: lists (``maxItems``), strings
        (``maxLength``) and free-form dicts (give them fixed properties: ``maxProperties`` is not enforced).

        Args:
            schema: a pydantic model class, or a JSON schema dict.
            include_raw: when True, return ``{"raw", "parsed", "parsing_error"}`` like LangChain's models.
            **kwargs: ``method`` and ``strict`` are accepted for compatibility and ignored.

        Returns:
            A runnable producing a pydantic instance (or a dict for a dict schema).

        Raises:
            TypeError: when ``schema`` is neither a pydantic class nor a dict.
            ValueError: for any other keyword argument.
        """
        kwargs.pop("method", None)
        kwargs.pop("strict", None)
        if kwargs:
            raise ValueError(f"unsupported arguments {sorted(kwargs)}")
        json_schema = _json_schema(schema)
        llm = self.bind(
            response_format={"type": "json_object", "schema": json_schema},
            ls_structured_output_format={"kwargs": {"method": "json_schema"}, "schema": json_schema},
        )
        parser = RunnableLambda(_parser(schema))
        if not include_raw:
            return llm | parser
        parser_assign = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
        parser_with_fallback = parser_assign.with_fallbacks([parser_none], exception_key="parsing_error")
        return RunnableMap(raw=llm) | parser_with_fallback

    def count_tokens(self, messages: Sequence[BaseMessage]) -> int:
        """Return the length of ``messages`` as this model's chat prompt, in its own tokens (loads the model).

        Blocking: it waits for the llama.cpp thread, so call it from a worker thread.
        """
        dicts = [_to_dict(message) for message in messages]
        return llama.call(lambda: llama.chat_prompt_tokens(self._loaded(), dicts))

    @property
    def _model_name(self) -> str:
        return os.path.basename(self.model_path)

    def _request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        request = {
            "messages": [_to_dict(message) for message in messages],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": stop,
            **kwargs,
        }
        if "response_format" not in request:  # JSON repeats tokens by nature: penalise free text only
            request.setdefault("repeat_penalty", self.repeat_penalty)
        return request

    def _complete(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one non-streaming completion (on the worker thread)."""
        response: dict[str, Any] = self._loaded().create_chat_completion(**request)
        return response

    def _produce(
        self,
        request: dict[str, Any],
        parts: queue.SimpleQueue[str | _StreamEnd | BaseException],
        cancel: threading.Event,
    ) -> None:
        """Run one streamed completion on the worker thread: text pieces, then the end, go on ``parts``."""
        try:
            model = self._loaded()
            completion_tokens, finish_reason = 0, None
            for part in model.create_chat_completion(**request, stream=True):
                if cancel.is_set():
                    break
                choice = part["choices"][0]
                finish_reason = choice.get("finish_reason") or finish_reason
                text = choice["delta"].get("content") or ""
                if text:
                    completion_tokens += 1  # one chunk per sampled token that completes text
                    parts.put(text)
            prompt_tokens = _prompt_tokens(model.n_tokens, completion_tokens, finish_reason)
            parts.put(_StreamEnd(prompt_tokens, completion_tokens, finish_reason))
        except BaseException as error:  # re-raised in the consumer's thread
            parts.put(error)

    def _loaded(self) -> Any:
        """Return the ``Llama`` object, loading it on first use (only ever called on the worker thread)."""
        if self._llama is None:
            self._llama = llama.load(
                self.model_path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads or llama.default_threads(),
                seed=self.seed,
                chat_format=self.chat_format,
                extra_buffers=self.extra_buffers,
                verbose=self.verbose,
            )
        return self._llama


def _to_dict(message: BaseMessage) -> dict[str, str]:
    """Convert a LangChain message to llama.cpp's ``{"role", "content"}`` form."""
    role = message.role if isinstance(message, ChatMessage) else _ROLES.get(message.type, "user")
    return {"role": role, "content": str(message.text)}


def _prompt_tokens(context_tokens: int, completion_tokens: int, finish_reason: str | None) -> int:
    """Derive a streamed reply's prompt size, as llama.cpp's streams carry no usage.

    The context then holds the prompt and the generated tokens, except the last one when the reply hit
    ``max_tokens`` (a token is evaluated only before the next is sampled).
    """
    unevaluated = 1 if finish_reason == "length" else 0
    return max(context_tokens + unevaluated - completion_tokens, 0)


def _usage(usage: dict[str, Any]) -> UsageMetadata:
    """Convert an OpenAI-style usage dict to LangChain's ``UsageMetadata``."""
    prompt = int(usage.get("prompt_tokens", 0))
    completion = int(usage.get("completion_tokens", 0))
    return UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)


def _json_schema(schema: dict[str, Any] | type) -> dict[str, Any]:
    """Return the JSON schema of a pydantic class, or the dict itself."""
    if isinstance(schema, dict):
        return schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    raise TypeError(f"schema must be a pydantic model class or a JSON schema dict, not {schema!r}")


def _parser(schema: dict[str, Any] | type) -> Any:
    """Return a function that turns a reply message into a validated object."""

    def parse(message: BaseMessage) -> Any:
        text = str(message.text)
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            return schema.model_validate_json(text)
        return json.loads(text)

    return parse
