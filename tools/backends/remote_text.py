"""Text and table task types on the Inference API: their `InferenceClient` calls and outputs.

Outputs match the local runners' (`tools.runners.text`): ``text`` plus ``data`` with labels, scores or
answers.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from tools.backends.remote_spec import (
    RemoteTask,
    as_list,
    field,
    label_list,
    labels_output,
    options_of,
    read_table,
)
from tools.runners.base import Call, TaskOutput
from tools.runners.drawing import scored

logger = logging.getLogger(__name__)

_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")
"""What a language code looks like: ``fr``, ``deu``, ``fr_XX`` (mBART), ``fra_Latn`` (NLLB)."""


def _text(call: Call) -> dict[str, Any]:
    return {"text": call.args["text"]}


# ---------------------------------------------------------------- classification, tagging, fill-mask


def _prepare_text_classification(call: Call) -> dict[str, Any]:
    return {**_text(call), "top_k": int(call.options.get("top_k", 5))}


def _prepare_zero_shot(call: Call) -> dict[str, Any]:
    labels = label_list(call)
    extra = options_of(call, ("multi_label", "hypothesis_template"))
    return {**_text(call), "candidate_labels": labels, **extra}


def _prepare_token_classification(call: Call) -> dict[str, Any]:
    strategy = call.options.get("aggregation_strategy", "simple")
    return {**_text(call), "aggregation_strategy": strategy}


def _finish_token_classification(_call: Call, answer: Any) -> TaskOutput:
    entities = [
        {
            "entity": str(field(item, "entity_group") or field(item, "entity") or ""),
            "word": str(field(item, "word", "")),
            "score": float(field(item, "score", 0.0)),
            "start": field(item, "start"),
            "end": field(item, "end"),
        }
        for item in as_list(answer)
    ]
    text = ", ".join(f"{e['word']} ({e['entity']} {e['score']:.2f})" for e in entities) or "no entities found"
    return TaskOutput(text=text, data={"entities": entities})


def _prepare_fill_mask(call: Call) -> dict[str, Any]:
    return {**_text(call), "top_k": int(call.options.get("top_k", 5))}


def _finish_fill_mask(_call: Call, answer: Any) -> TaskOutput:
    """Render as the local runner does: the best filled sentence, with the alternatives of the first mask.

    The API answers one mask with a list of candidates, and several masks with one such list per mask.
    """
    found = as_list(answer)
    per_mask = [as_list(mask) for mask in found] if found and isinstance(found[0], list) else [found]
    masks: list[list[dict[str, Any]]] = [
        sorted(
            (
                {
                    "token": field(item, "token"),
                    "token_str": str(field(item, "token_str", "")).strip(),
                    "score": float(field(item, "score", 0.0)),
                }
                for item in mask
            ),
            key=lambda item: -item["score"],
        )
        for mask in per_mask
    ]
    best_items = [max(mask, key=lambda item: float(field(item, "score", 0.0))) for mask in per_mask if mask]
    sequence = str(field(best_items[-1], "sequence", "")) if best_items else ""
    if not masks or not masks[0]:
        return TaskOutput(text=sequence, data={"sequence": sequence, "masks": masks})
    best, *others = masks[0]
    text = f"{sequence} ({best['score']:.2f})"
    if others:
        text += "; alternatives: " + scored([(item["token_str"], item["score"]) for item in others])
    return TaskOutput(text=text, data={"sequence": sequence, "masks": masks})


# ---------------------------------------------------------------- sequence-to-sequence


def _prepare_summarization(call: Call) -> dict[str, Any]:
    generation = options_of(call, ("max_new_tokens", "min_new_tokens", "num_beams"))
    prefix = str(call.options.get("prefix", ""))
    return {"text": prefix + call.args["text"], **({"generate_parameters": generation} if generation else {})}


def _finish_summarization(_call: Call, answer: Any) -> TaskOutput:
    return TaskOutput(text=str(field(answer, "summary_text", "")).strip())


def _prepare_translation(call: Call) -> dict[str, Any]:
    """Map ``target`` (a language name) onto what the API takes.

    The Inference API's translation takes ``src_lang`` / ``tgt_lang`` *codes*, both or neither, which only
    multilingual models (mBART, NLLB, M2M100) read; a fixed-direction model (Marian ``opus-mt-en-fr``)
    ignores them. So: the card option ``lang_codes`` (name -> code, as for the local runner) gives
    ``tgt_lang``; a target that already is a code (``fr``, ``fra_Latn``) is sent as is; any other name is sent
    nowhere (the model's fixed direction), unless the option ``prefix`` (T5 style, e.g.
    ``"translate English to {target}: "``) puts it in the text. ``src_lang`` is the option ``src_lang``, else
    ``lang_codes["english"]``, else ``en``.
    """
    target = (call.args.get("target") or "English").strip()
    prefix = str(call.options.get("prefix", "")).format(target=target)
    codes = {str(name).lower(): code for name, code in dict(call.options.get("lang_codes", {})).items()}
    kwargs: dict[str, Any] = {"text": prefix + call.args["text"]}
    target_code = codes.get(target.lower())
    if target_code is None and _LANGUAGE_CODE.match(target) and target.lower() != "english":
        target_code = target
    if target_code:
        kwargs["src_lang"] = call.options.get("src_lang") or codes.get("english") or "en"
        kwargs["tgt_lang"] = target_code
    elif not prefix and call.args.get("target"):
        logger.debug("no language code for target %s: the model's fixed direction applies", target)
    return kwargs


def _finish_translation(call: Call, answer: Any) -> TaskOutput:
    target = (call.args.get("target") or "English").strip()
    return TaskOutput(text=str(field(answer, "translation_text", "")).strip(), data={"target": target})


def _prepare_text2text(call: Call) -> dict[str, Any]:
    prefix = str(call.options.get("prefix", ""))
    return {
        "prompt": prefix + call.args["text"],
        "max_new_tokens": int(call.options.get("max_new_tokens", 128)),
    }


def _finish_text2text(_call: Call, answer: Any) -> TaskOutput:
    return TaskOutput(text=str(answer).strip())


# ---------------------------------------------------------------- generation and chat


def _prepare_text_generation(call: Call) -> dict[str, Any]:
    extra = options_of(call, ("temperature", "top_p", "top_k", "seed", "do_sample", "repetition_penalty"))
    max_new = int(call.options.get("max_new_tokens", 50))
    return {"prompt": call.args["text"], "max_new_tokens": max_new, "return_full_text": False, **extra}


def _finish_text_generation(call: Call, answer: Any) -> TaskOutput:
    generated = str(answer)
    if not bool(call.options.get("return_full_text", True)):
        return TaskOutput(text=generated.strip(), data={"generated": generated})
    gap = " " if generated and not generated[0].isspace() else ""
    return TaskOutput(text=f"{call.args['text']}{gap}{generated}", data={"generated": generated})


def _prepare_conversational(call: Call) -> dict[str, Any]:
    messages: list[dict[str, str]] = []
    if call.options.get("system"):
        messages.append({"role": "system", "content": str(call.options["system"])})
    messages += [{"role": role, "content": content} for role, content in call.history]
    messages.append({"role": "user", "content": call.args["text"]})
    extra = options_of(call, ("temperature", "top_p", "seed"))
    return {"messages": messages, "max_tokens": int(call.options.get("max_tokens", 256)), **extra}


def _finish_conversational(_call: Call, answer: Any) -> TaskOutput:
    choice = field(answer, "choices")[0]
    usage = field(answer, "usage") or {}
    content = str(field(field(choice, "message"), "content") or "").strip()
    data = {
        "reply": content,
        "finish_reason": field(choice, "finish_reason"),
        "prompt_tokens": int(field(usage, "prompt_tokens", 0) or 0),
        "completion_tokens": int(field(usage, "completion_tokens", 0) or 0),
    }
    return TaskOutput(text=content, data=data)


# ---------------------------------------------------------------- question answering, similarity, tables


def _prepare_question_answering(call: Call) -> dict[str, Any]:
    return {"question": call.args["text"], "context": call.args["context"]}


def _finish_question_answering(_call: Call, answer: Any) -> TaskOutput:
    best = max(as_list(answer), key=lambda item: float(field(item, "score", 0.0)))
    text = str(field(best, "answer", "")).strip()
    data = {
        "answer": text,
        "score": float(field(best, "score", 0.0)),
        "start": field(best, "start"),
        "end": field(best, "end"),
    }
    return TaskOutput(text=text, data=data)


def _prepare_table_question_answering(call: Call) -> dict[str, Any]:
    return {"table": read_table(call), "query": call.args["text"]}


def _finish_table_question_answering(_call: Call, answer: Any) -> TaskOutput:
    text = str(field(answer, "answer", "")).strip()
    data = {
        "answer": text,
        "cells": [str(cell) for cell in field(answer, "cells", []) or []],
        "coordinates": [list(pair) for pair in field(answer, "coordinates", []) or []],
        "aggregator": str(field(answer, "aggregator") or "NONE"),
    }
    return TaskOutput(text=text, data=data)


def _prepare_sentence_similarity(call: Call) -> dict[str, Any]:
    return {"sentence": call.args["text"], "other_sentences": [call.args["other"]]}


def _finish_sentence_similarity(_call: Call, answer: Any) -> TaskOutput:
    score = float(as_list(answer)[0])
    return TaskOutput(text=f"similarity: {score:.4f}", data={"score": score})


def _prepare_tabular_classification(call: Call) -> dict[str, Any]:
    return {"table": read_table(call)}


def _finish_tabular_classification(_call: Call, answer: Any) -> TaskOutput:
    predictions = [str(label) for label in as_list(answer)]
    counts: dict[str, int] = {}
    for label in predictions:
        counts[label] = counts.get(label, 0) + 1
    summary = scored([(label, count / len(predictions)) for label, count in counts.items()])
    text = (
        f"{len(predictions)} rows: "
        + ", ".join(predictions[:20])
        + (f" (shares: {summary})" if summary else "")
    )
    return TaskOutput(text=text, data={"predictions": predictions})


TEXT_TASKS: dict[str, RemoteTask] = {
    "text-classification": RemoteTask("text_classification", _prepare_text_classification, labels_output),
    "token-classification": RemoteTask(
        "token_classification", _prepare_token_classification, _finish_token_classification
    ),
    "zero-shot-classification": RemoteTask("zero_shot_classification", _prepare_zero_shot, labels_output),
    "fill-mask": RemoteTask("fill_mask", _prepare_fill_mask, _finish_fill_mask),
    "summarization": RemoteTask("summarization", _prepare_summarization, _finish_summarization),
    "translation": RemoteTask("translation", _prepare_translation, _finish_translation),
    "text2text-generation": RemoteTask("text_generation", _prepare_text2text, _finish_text2text),
    "text-generation": RemoteTask("text_generation", _prepare_text_generation, _finish_text_generation),
    "conversational": RemoteTask("chat_completion", _prepare_conversational, _finish_conversational),
    "question-answering": RemoteTask(
        "question_answering", _prepare_question_answering, _finish_question_answering
    ),
    "table-question-answering": RemoteTask(
        "table_question_answering", _prepare_table_question_answering, _finish_table_question_answering
    ),
    "sentence-similarity": RemoteTask(
        "sentence_similarity", _prepare_sentence_similarity, _finish_sentence_similarity
    ),
    "tabular-classification": RemoteTask(
        "tabular_classification", _prepare_tabular_classification, _finish_tabular_classification
    ),
}
"""Text and table task type -> its Inference API call."""
