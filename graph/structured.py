"""Ask the controller for a pydantic object: structured output first, JSON extracted from text otherwise."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ValidationError

logger = logging.getLogger(__name__)

Schema = TypeVar("Schema", bound=BaseModel)


@dataclass
class Reply(Generic[Schema]):
    """One structured call's outcome: the parsed object or the error, and the raw text for repair prompts."""

    parsed: Schema | None
    error: str | None
    raw_text: str


async def ask(
    llm: BaseChatModel,
    schema: type[Schema],
    messages: Sequence[BaseMessage],
    json_schema: dict[str, Any] | None = None,
    cache: dict[Any, Any] | None = None,
) -> Reply[Schema]:
    """Call the LLM once for a ``schema`` object.

    Providers with structured output (OpenAI json_schema, the embedded grammar) use it; for the others the
    reply's text is searched for JSON and validated. A server that rejects ``json_schema`` (llama.cpp's
    answers HTTP 500) is asked with ``json_object`` and the schema in the prompt, then with plain text; what
    worked is remembered in ``cache``, so later calls to that controller start there. A reply that does not
    fit the schema comes back as an error in the reply, never raised, so the caller can feed it to a bounded
    repair loop; a failed call (network, authentication) raises.

    Args:
        llm: the controller.
        schema: the pydantic class wanted.
        messages: the prompt.
        json_schema: a tighter JSON schema to decode with instead of ``schema``'s own (its documents must
            also validate against ``schema``), for providers that enforce every JSON-schema feature.
        cache: where the structured-output runnable of ``llm`` for ``schema`` is kept between calls
            (building it converts the schema: about 1 ms for ChatOpenAI); per-request schemas are not kept.

    Returns:
        The reply.
    """
    if json_schema is not None:
        return await _ask_in(STRICT, llm, schema, messages, json_schema, None)
    store = cache if cache is not None else {}
    first = FORMATS.index(store.get(_FORMAT_KEY, STRICT))
    for response_format in FORMATS[first:]:
        try:
            return await _ask_in(response_format, llm, schema, messages, None, store)
        except Exception as error:
            if response_format == TEXT or not rejects_response_format(error):
                raise
            following = FORMATS[FORMATS.index(response_format) + 1]
            logger.warning(
                "the controller rejects response_format %s (%s): using %s from now on",
                response_format,
                _first_line(error),
                following,
            )
            store[_FORMAT_KEY] = following
    raise AssertionError("unreachable: the text format never falls back")


STRICT, JSON_OBJECT, TEXT = "json_schema", "json_object", "text"
FORMATS = (STRICT, JSON_OBJECT, TEXT)
"""How the controller is asked for JSON, strictest first: a server that rejects one gets the next."""
_FORMAT_KEY = "__response_format__"


def rejects_response_format(error: Exception) -> bool:
    """Tell whether a failed call was the server refusing the requested ``response_format``.

    llama-cpp-python's server answers HTTP 500 "Input should be 'text' or 'json_object'" to ``json_schema``;
    servers without JSON modes answer 400 naming ``response_format``.
    """
    status = getattr(error, "status_code", None)
    text = str(error).lower()
    return (
        isinstance(status, int)
        and 400 <= status < 600
        and any(word in text for word in ("response_format", "json_schema", "json_object"))
    )


async def _ask_in(
    response_format: str,
    llm: BaseChatModel,
    schema: type[Schema],
    messages: Sequence[BaseMessage],
    json_schema: dict[str, Any] | None,
    cache: dict[Any, Any] | None,
) -> Reply[Schema]:
    if response_format != STRICT:
        messages = [*messages, HumanMessage(schema_instruction(schema))]  # the schema travels in the prompt
    method = "json_mode" if response_format == JSON_OBJECT else None
    structured = None
    if response_format != TEXT:
        structured = _structured_runnable(llm, json_schema or schema, cache, method)
    if structured is not None:
        try:
            out = await structured.ainvoke(list(messages))
        except Exception as error:
            if not _is_reply_problem(error):
                raise
            return Reply(None, f"the reply did not match the schema: {_first_line(error)}", "")
        raw = out.get("raw")
        raw_text = _text_of(raw) if isinstance(raw, BaseMessage) else ""
        parsed = out.get("parsed")
        if isinstance(parsed, dict):
            return parse_reply(schema, json.dumps(parsed))
        if isinstance(parsed, schema):
            return Reply(parsed, None, raw_text or parsed.model_dump_json())
        if raw_text:  # some providers put the JSON in the text even when their parser failed
            return parse_reply(schema, raw_text)
        return Reply(None, f"the reply did not match the schema: {out.get('parsing_error')}", raw_text)
    message = await llm.ainvoke(list(messages))
    return parse_reply(schema, _text_of(message))


def schema_instruction(schema: type[BaseModel]) -> str:
    """Return the prompt line that asks for JSON of ``schema`` when the server cannot enforce it."""
    shape = json.dumps(schema.model_json_schema(), separators=(",", ":"))
    return f"Reply with one JSON object and nothing else. It must match this JSON schema: {shape}"


# Raised by provider clients that parse the reply themselves (the OpenAI SDK's ``parse``): the call worked,
# the reply did not fit. Matched by name so that no provider SDK is imported here.
_REPLY_PROBLEMS = frozenset({"LengthFinishReasonError", "ContentFilterFinishReasonError"})


def _is_reply_problem(error: Exception) -> bool:
    """Return True when ``error`` says the reply was unusable (a repair prompt may help), not the call."""
    return isinstance(error, (ValueError, OutputParserException)) or type(error).__name__ in _REPLY_PROBLEMS


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:300]


def _structured_runnable(
    llm: BaseChatModel,
    schema: type[BaseModel] | dict[str, Any],
    cache: dict[Any, Any] | None,
    method: str | None = None,
) -> Any:
    key = (schema, method) if method else schema
    if cache is not None and key in cache:
        return cache[key]
    try:
        extra = {"method": method} if method else {}
        runnable = llm.with_structured_output(schema, include_raw=True, **extra)
    except (NotImplementedError, TypeError, ValueError):  # no such structured output for this model
        runnable = None
    if cache is not None:
        cache[key] = runnable
    return runnable


def _text_of(message: BaseMessage) -> str:
    if isinstance(message, AIMessage) and message.tool_calls and not message.content:
        return json.dumps(message.tool_calls[0]["args"])
    return message.text if hasattr(message, "text") else str(message.content)


def parse_reply(schema: type[Schema], text: str) -> Reply[Schema]:
    """Extract the first JSON value from ``text`` and validate it against ``schema``.

    A bare JSON list is accepted for a schema with a single list field (``[...]`` for ``{"tasks": [...]}``).

    Args:
        schema: the pydantic class.
        text: the LLM's reply.

    Returns:
        The reply, with ``error`` saying what was wrong when it does not parse.
    """
    value = extract_json(text)
    if value is None:
        return Reply(None, "the reply holds no JSON value", text)
    list_fields = [name for name, info in schema.model_fields.items() if _is_list(info.annotation)]
    if isinstance(value, list) and len(schema.model_fields) == 1 and list_fields:
        value = {list_fields[0]: value}
    try:
        return Reply(schema.model_validate(value), None, text)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {str(e.get('input'))[:60]!r})"
            for e in error.errors()[:8]
        )
        return Reply(None, f"the JSON does not match the schema: {problems}", text)


def _is_list(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is list


def extract_json(text: str) -> Any:
    """Return the first JSON object or array in ``text`` (code fences and prose around it are skipped).

    Args:
        text: any text.

    Returns:
        The decoded value, or None when there is none.
    """
    decoder = json.JSONDecoder()
    for index, char in enumerate(text):
        if char in "[{":
            try:
                value, _ = decoder.raw_decode(text[index:])
            except json.JSONDecodeError:
                continue
            return value
    return None
