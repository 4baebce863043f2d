"""Runners for transformers text models: summarization, translation, extractive QA, generation, similarity."""

from __future__ import annotations

import logging
from typing import Any

from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.hf_common import (
    Loaded,
    decode,
    from_pretrained,
    generation_kwargs,
    max_input_tokens,
    model_and_tokenizer,
    to_model,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- summarization and translation


def load_seq2seq(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load an encoder-decoder text model (BART, T5, Marian, ...) with ``AutoModelForSeq2SeqLM``.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its tokenizer.
    """
    return model_and_tokenizer("AutoModelForSeq2SeqLM", card, options)


def _seq2seq(loaded: Loaded, text: str, call: Call, max_new_tokens: int, **extra: Any) -> str:
    import torch

    tokenizer = loaded.tokenizer
    limit = max_input_tokens(tokenizer, loaded.model, call)
    batch = tokenizer(text, truncation=True, max_length=limit, return_tensors="pt")
    with torch.inference_mode():
        ids = loaded.model.generate(
            **to_model(batch, loaded.model), **generation_kwargs(call, max_new_tokens), **extra
        )
    return decode(tokenizer, ids[0])


def run_summarization(loaded: Loaded, call: Call) -> TaskOutput:
    """Summarize ``text`` (options ``prefix``, e.g. ``"summarize: "`` for T5; ``max_new_tokens`` default 128).

    Args:
        loaded: model and tokenizer.
        call: args ``text``.

    Returns:
        The summary in ``text``.
    """
    prefix = str(call.options.get("prefix", ""))
    return TaskOutput(text=_seq2seq(loaded, prefix + call.args["text"], call, 128))


def run_translation(loaded: Loaded, call: Call) -> TaskOutput:
    """Translate ``text`` into ``target`` (default English).

    A model fixed to one direction (Marian) ignores ``target``. Options: ``prefix``, a template such as
    ``"translate English to {target}: "`` (T5-style models); ``lang_codes``, target name -> language token,
    forced as the first generated token (mBART, NLLB, M2M100); ``max_new_tokens`` (default 256).

    Args:
        loaded: model and tokenizer.
        call: args ``text`` and optional ``target``.

    Returns:
        The translation in ``text``; ``data["target"]`` the language asked for.
    """
    target = (call.args.get("target") or "English").strip()
    prefix = str(call.options.get("prefix", "")).format(target=target)
    extra: dict[str, Any] = {}
    codes = {str(name).lower(): code for name, code in dict(call.options.get("lang_codes", {})).items()}
    if target.lower() in codes:
        extra["forced_bos_token_id"] = loaded.tokenizer.convert_tokens_to_ids(codes[target.lower()])
    elif not prefix and call.args.get("target"):
        logger.debug("model translates in a fixed direction; target %s ignored", target)
    return TaskOutput(
        text=_seq2seq(loaded, prefix + call.args["text"], call, 256, **extra), data={"target": target}
    )


# ---------------------------------------------------------------- question-answering


def load_question_answering(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load an extractive QA model with ``AutoModelForQuestionAnswering``.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its tokenizer.
    """
    return model_and_tokenizer("AutoModelForQuestionAnswering", card, options)


def run_question_answering(loaded: Loaded, call: Call) -> TaskOutput:
    """Answer a question from a passage: the best start/end span inside the context.

    Long contexts are split into overlapping windows; the best span over all windows wins. Option
    ``max_answer_tokens`` (default 30).

    Args:
        loaded: model and tokenizer.
        call: args ``text`` (the question) and ``context``.

    Returns:
        The answer in ``text``; ``data`` its ``score`` and character ``start``/``end`` in the context.
    """
    import torch

    tokenizer, context = loaded.tokenizer, call.args["context"]
    limit = max_input_tokens(tokenizer, loaded.model, call)
    windows = tokenizer(
        call.args["text"],
        context,
        truncation="only_second",
        max_length=limit,
        stride=min(128, limit // 4),
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=True,
        return_tensors="pt",
    )
    offsets = windows.pop("offset_mapping")
    windows.pop("overflow_to_sample_mapping", None)
    with torch.inference_mode():
        out = loaded.model(**to_model(windows, loaded.model))
    max_len = int(call.options.get("max_answer_tokens", 30))
    best = (-1.0, 0, 0)
    for index in range(out.start_logits.shape[0]):
        in_context = torch.tensor([sid == 1 for sid in windows.sequence_ids(index)])
        score, start, end = best_span(out.start_logits[index], out.end_logits[index], in_context, max_len)
        if score > best[0]:
            best = (score, int(offsets[index][start][0]), int(offsets[index][end][1]))
    score, first, last = best
    answer = context[first:last].strip()
    return TaskOutput(text=answer, data={"answer": answer, "score": score, "start": first, "end": last})


def best_span(start_logits: Any, end_logits: Any, allowed: Any, max_len: int) -> tuple[float, int, int]:
    """Return the most likely answer span: (p(start) * p(end), start, end) over allowed tokens.

    Args:
        start_logits: 1-D start logits.
        end_logits: 1-D end logits.
        allowed: 1-D bool mask of tokens that may be in the answer (the context).
        max_len: the longest span in tokens.

    Returns:
        The span's probability and its first and last token indices; ``(0.0, 0, 0)`` when no token is
        allowed.
    """
    import torch

    if not bool(allowed.any()):
        return 0.0, 0, 0
    mask = allowed.to(start_logits.device)
    start = start_logits.float().masked_fill(~mask, float("-inf")).softmax(-1)
    end = end_logits.float().masked_fill(~mask, float("-inf")).softmax(-1)
    pairs = torch.triu(start[:, None] * end[None, :])
    pairs = torch.tril(pairs, diagonal=max_len - 1)
    flat = int(pairs.argmax())
    first, last = divmod(flat, pairs.shape[1])
    return float(pairs[first, last]), first, last


# ---------------------------------------------------------------- text-generation


def load_text_generation(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a causal language model with ``AutoModelForCausalLM``.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its tokenizer (truncating prompts from the left).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(card.location)
    tokenizer.truncation_side = "left"
    model = from_pretrained(AutoModelForCausalLM, card, options)
    return Loaded(model, tokenizer, tokenizer, options.device)


def run_text_generation(loaded: Loaded, call: Call) -> TaskOutput:
    """Continue a prompt, or answer it as a chat when the tokenizer has a chat template.

    Options: ``chat`` (default: whether a chat template exists), ``return_full_text`` (default: True
    for plain prompts, as the pipeline does), ``max_new_tokens`` (default 50) and other generation settings.

    Args:
        loaded: model and tokenizer.
        call: args ``text``.

    Returns:
        The text in ``text``; ``data["generated"]`` only the new part.
    """
    import torch

    tokenizer, prompt = loaded.tokenizer, call.args["text"]
    chat = bool(call.options.get("chat", bool(getattr(tokenizer, "chat_template", None))))
    if chat:
        messages = [{"role": "user", "content": prompt}]
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    generation = generation_kwargs(call, 50)
    room = max_input_tokens(tokenizer, loaded.model, call) - int(generation["max_new_tokens"])
    batch = tokenizer(
        prompt, truncation=True, max_length=max(1, room), return_tensors="pt", add_special_tokens=not chat
    )
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    with torch.inference_mode():
        ids = loaded.model.generate(**to_model(batch, loaded.model), pad_token_id=pad, **generation)
    generated = decode(tokenizer, ids[0][batch["input_ids"].shape[1] :])
    full = bool(call.options.get("return_full_text", not chat))
    text = (
        f"{call.args['text']}{' ' if generated and not generated[0].isspace() else ''}{generated}"
        if full
        else generated
    )
    return TaskOutput(text=text, data={"generated": generated})


# ---------------------------------------------------------------- sentence-similarity


def load_sentence_similarity(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a text encoder with ``AutoModel`` (sentence-transformers folders load their transformer).

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its tokenizer.
    """
    return model_and_tokenizer("AutoModel", card, options)


def run_sentence_similarity(loaded: Loaded, call: Call) -> TaskOutput:
    """Score how similar two texts are: cosine of their mean-pooled token embeddings.

    Args:
        loaded: model and tokenizer.
        call: args ``text`` and ``other``.

    Returns:
        ``data["score"]`` in [-1, 1]; ``text`` like ``similarity: 0.8312``.
    """
    import torch

    tokenizer = loaded.tokenizer
    limit = max_input_tokens(tokenizer, loaded.model, call)
    texts = [call.args["text"], call.args["other"]]
    batch = tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt")
    inputs = to_model(batch, loaded.model)
    with torch.inference_mode():
        hidden = loaded.model(**inputs).last_hidden_state.float()
    weights = inputs["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    score = float(torch.nn.functional.cosine_similarity(pooled[0], pooled[1], dim=0))
    return TaskOutput(text=f"similarity: {score:.4f}", data={"score": score})


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call("transformers/summarization", load_seq2seq, run_summarization),
    Runner.per_call("transformers/translation", load_seq2seq, run_translation),
    Runner.per_call("transformers/question-answering", load_question_answering, run_question_answering),
    Runner.per_call("transformers/text-generation", load_text_generation, run_text_generation),
    Runner.per_call("transformers/sentence-similarity", load_sentence_similarity, run_sentence_similarity),
)
