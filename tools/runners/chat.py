"""Runners for conversation and rewriting: a causal LM's chat reply, and batched text2text generation."""

from __future__ import annotations

from typing import Any

from tools.artifacts import InputError
from tools.runners.base import BatchSteps, Call, Runner, TaskOutput
from tools.runners.hf_common import Loaded, decode, generation_kwargs, max_input_tokens, to_model
from tools.runners.text import load_seq2seq, load_text_generation

ROLES = ("system", "user", "assistant")


def _request(call: Call) -> str:
    text = str(call.args.get("text", "")).strip()
    if not text:
        raise InputError("the `text` argument is empty: give the message or text to answer")
    return text


# ---------------------------------------------------------------- conversational


def chat_messages(call: Call) -> list[dict[str, str]]:
    """Return the chat messages of a call: the card's ``system`` option, the history, then the request.

    Args:
        call: args ``text``; ``history`` the earlier ``(role, content)`` turns.

    Returns:
        ``{role, content}`` messages, oldest first (unknown roles count as ``user``).

    Raises:
        InputError: when the request is empty.
    """
    messages = (
        [{"role": "system", "content": str(call.options["system"])}] if call.options.get("system") else []
    )
    for role, content in call.history:
        if content.strip():
            messages.append({"role": role if role in ROLES else "user", "content": content})
    messages.append({"role": "user", "content": _request(call)})
    return messages


def _plain_transcript(messages: list[dict[str, str]]) -> str:
    # Models without a chat template get a labelled transcript that ends where the reply starts.
    lines = [f"{message['role'].capitalize()}: {message['content']}" for message in messages]
    return "\n".join([*lines, "Assistant:"])


def _prompt_ids(tokenizer: Any, messages: list[dict[str, str]], room: int) -> tuple[list[int], int]:
    """Return the prompt's token ids (oldest turns dropped until it fits) and how many turns it kept."""
    kept = list(messages)
    while True:
        if getattr(tokenizer, "chat_template", None):
            prompt = tokenizer.apply_chat_template(kept, tokenize=False, add_generation_prompt=True)
            ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        else:
            ids = tokenizer(_plain_transcript(kept))["input_ids"]
        first_turn = 1 if kept[0]["role"] == "system" else 0
        if len(ids) <= room or len(kept) - first_turn <= 1:
            return list(ids)[-room:], len(kept) - first_turn
        del kept[first_turn]


def run_conversational(loaded: Loaded, call: Call) -> TaskOutput:
    """Reply to ``text`` in the conversation so far, with the tokenizer's chat template.

    The oldest turns are dropped when the conversation does not fit the model. Options: ``system`` (a system
    prompt), ``max_new_tokens`` (default 128) and the other generation settings.

    Args:
        loaded: a causal LM and its tokenizer.
        call: args ``text``; ``history`` the earlier turns.

    Returns:
        The reply in ``text``; ``data["turns"]`` how many turns (with the request) the model saw.
    """
    import torch

    tokenizer = loaded.tokenizer
    generation = generation_kwargs(call, 128)
    room = max(1, max_input_tokens(tokenizer, loaded.model, call) - int(generation["max_new_tokens"]))
    ids, turns = _prompt_ids(tokenizer, chat_messages(call), room)
    inputs = {"input_ids": torch.tensor([ids]), "attention_mask": torch.ones(1, len(ids), dtype=torch.long)}
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    with torch.inference_mode():
        out = loaded.model.generate(**to_model(inputs, loaded.model), pad_token_id=pad, **generation)
    reply = decode(tokenizer, out[0][len(ids) :])
    return TaskOutput(text=reply, data={"reply": reply, "turns": turns})


# ---------------------------------------------------------------- text2text-generation


def _text2text_item(loaded: Loaded, call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
    prefix = str(call.options.get("prefix", ""))
    limit = max_input_tokens(loaded.tokenizer, loaded.model, call)
    encoding = dict(loaded.tokenizer(prefix + _request(call), truncation=True, max_length=limit))
    return encoding, generation_kwargs(call, 64)


def _text2text(
    loaded: Loaded, items: list[tuple[dict[str, Any], dict[str, Any]]], options: dict[str, Any]
) -> list[str]:
    import torch

    batch = loaded.tokenizer.pad([encoding for encoding, _ in items], padding=True, return_tensors="pt")
    generation = items[0][1]  # one card per batch: the same settings for every call
    with torch.inference_mode():
        ids = loaded.model.generate(**to_model(batch, loaded.model), **generation)
    return [decode(loaded.tokenizer, row) for row in ids]


def _finish_text2text(_loaded: Loaded, _call: Call, generated: str) -> TaskOutput:
    return TaskOutput(text=generated, data={"generated": generated})


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call(
        "transformers/conversational",
        load_text_generation,
        run_conversational,
        shares="transformers/text-generation",
    ),
    Runner.batched(
        "transformers/text2text-generation",
        load_seq2seq,
        BatchSteps(_text2text_item, _text2text, _finish_text2text),
    ),
)
"""Conversational shares text-generation's loaded causal LMs. Text2text options: ``prefix`` (e.g.
``"question: "`` for T5), ``max_new_tokens`` (default 64) and the other generation settings."""
