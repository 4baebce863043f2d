from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel

from graph.plan_schema import MAX_ARGUMENT_CHARS, plan_schema
from graph.structured import ask, extract_json, parse_reply
from tools.registry import TASKS


class Point(BaseModel):
    x: int
    y: int


class RaisingStructuredModel(FakeListChatModel):
    """A chat model whose structured output raises, as the OpenAI SDK's parse does on a bad reply."""

    error: Any = None

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Any:
        def fail(_: Any) -> Any:
            raise self.error

        return RunnableLambda(fail)


async def test_structured_reply_that_does_not_fit_becomes_an_error_for_repair():
    llm = RaisingStructuredModel(responses=["x"], error=ValueError("y: Field required"))
    reply = await ask(llm, Point, [HumanMessage("where?")])
    assert reply.parsed is None and "did not match the schema: y: Field required" in reply.error


async def test_failed_call_raises_so_the_caller_can_report_it():
    llm = RaisingStructuredModel(responses=["x"], error=ConnectionError("refused"))
    with pytest.raises(ConnectionError):
        await ask(llm, Point, [HumanMessage("where?")])


async def test_text_reply_is_searched_for_json():
    llm = FakeListChatModel(responses=['Sure! ```json\n{"x": 1, "y": 2}\n``` done'])
    reply = await ask(llm, Point, [HumanMessage("where?")])
    assert reply.parsed == Point(x=1, y=2)


def test_parse_reply_names_the_wrong_field():
    reply = parse_reply(Point, '{"x": 1, "y": "north"}')
    assert reply.parsed is None and "y:" in reply.error and "north" in reply.error


def test_extract_json_skips_prose_and_broken_brackets():
    assert extract_json("a [broken { then [1, 2]") == [1, 2]
    assert extract_json("no json") is None


def test_plan_schema_bounds_every_argument_and_has_no_free_form_dict():
    schema = plan_schema(list(TASKS)).model_json_schema()
    args = schema["$defs"]["Args"]
    assert args.get("additionalProperties") in (None, False)
    assert {"text", "image", "audio", "context", "target", "other"} <= set(args["properties"])
    assert all(prop["maxLength"] == MAX_ARGUMENT_CHARS for prop in args["properties"].values())
    assert args.get("required", []) == []
    step = schema["$defs"]["PlanStep"]
    assert set(step["properties"]["task"]["enum"]) == set(TASKS)
