"""Batched runners for transformers text labellers: classification, tagging, zero-shot labels, fill-mask.

Each call is tokenized alone in ``prepare`` (a bad input fails only its call); ``infer`` pads the batch and
runs it through the model once.
"""

from __future__ import annotations

from typing import Any

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.runners.base import BatchSteps, Call, LoadOptions, Runner, TaskOutput
from tools.runners.drawing import scored
from tools.runners.hf_common import (
    Loaded,
    max_input_tokens,
    model_and_tokenizer,
    pipeline_of,
    to_model,
)

MASK_SPELLINGS = ("[MASK]", "<mask>")
DEFAULT_HYPOTHESIS = "This example is {}."


def _text_of(call: Call) -> str:
    text = str(call.args.get("text", "")).strip()
    if not text:
        raise InputError("the `text` argument is empty: give the text to label")
    return text


def _encode(loaded: Loaded, call: Call, *texts: str) -> dict[str, Any]:
    limit = max_input_tokens(loaded.tokenizer, loaded.model, call)
    # A (text, hypothesis) pair cuts the text, never the hypothesis that names the label.
    truncation = "only_first" if len(texts) == 2 else True
    return dict(loaded.tokenizer(*texts, truncation=truncation, max_length=limit))


def _forward_padded(loaded: Loaded, encodings: list[dict[str, Any]]) -> Any:
    """Pad tokenized inputs into one batch and return the model's logits (float32, on the CPU)."""
    import torch

    batch = loaded.tokenizer.pad(encodings, padding=True, return_tensors="pt")
    with torch.inference_mode():
        return loaded.model(**to_model(batch, loaded.model)).logits.float().cpu()


def _ranked(labels: list[str], scores: list[float], top_k: int | None) -> list[dict[str, Any]]:
    ranked = sorted(zip(labels, scores, strict=True), key=lambda pair: -pair[1])[:top_k]
    return [{"label": label, "score": score} for label, score in ranked]


def _labels_output(labels: list[dict[str, Any]], **extra: Any) -> TaskOutput:
    text = scored([(item["label"], item["score"]) for item in labels])
    return TaskOutput(text=text, data={"labels": labels, **extra})


# ---------------------------------------------------------------- text-classification


def load_text_classification(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a sequence classifier (sentiment, topic, ...) with its tokenizer.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its tokenizer.
    """
    return model_and_tokenizer("AutoModelForSequenceClassification", card, options)


def _classify(loaded: Loaded, items: list[dict[str, Any]], options: dict[str, Any]) -> list[list[float]]:
    logits = _forward_padded(loaded, items)
    config = loaded.model.config
    default = (
        "sigmoid"
        if config.problem_type == "multi_label_classification" or logits.shape[-1] == 1
        else "softmax"
    )
    function = str(options.get("function_to_apply", default))
    if function == "sigmoid":
        return [row.tolist() for row in logits.sigmoid()]
    if function == "none":
        return [row.tolist() for row in logits]
    return [row.tolist() for row in logits.softmax(-1)]


def _finish_classification(loaded: Loaded, call: Call, scores: list[float]) -> TaskOutput:
    names = [str(loaded.model.config.id2label[index]) for index in range(len(scores))]
    return _labels_output(_ranked(names, scores, int(call.options.get("top_k", 5))))


# ---------------------------------------------------------------- zero-shot-classification


def _zero_shot_item(loaded: Loaded, call: Call) -> tuple[list[str], list[dict[str, Any]]]:
    text = _text_of(call)
    labels = list(
        dict.fromkeys(part.strip() for part in call.args.get("labels", "").split(",") if part.strip())
    )
    if not labels:
        raise InputError("the `labels` argument is empty: give the candidate labels, comma-separated")
    template = str(call.options.get("hypothesis_template", DEFAULT_HYPOTHESIS))
    if "{}" not in template:
        raise ValueError(f"hypothesis_template {template!r} has no {{}} for the label")
    return labels, [_encode(loaded, call, text, template.format(label)) for label in labels]


def _nli_ids(config: Any) -> tuple[int, int]:
    """Return the (entailment, contradiction) label ids of an NLI model (last and first by default)."""
    ids = {str(name).lower(): int(index) for name, index in (config.label2id or {}).items()}
    entail = next((index for name, index in ids.items() if name.startswith("entail")), config.num_labels - 1)
    contra = next((index for name, index in ids.items() if name.startswith("contra")), 0)
    return entail, contra


def _zero_shot(
    loaded: Loaded, items: list[tuple[list[str], list[dict[str, Any]]]], options: dict[str, Any]
) -> list[tuple[list[str], list[float]]]:
    logits = _forward_padded(loaded, [pair for _, pairs in items for pair in pairs])
    entail, contra = _nli_ids(loaded.model.config)
    results: list[tuple[list[str], list[float]]] = []
    start = 0
    for labels, _ in items:
        rows = logits[start : start + len(labels)]
        start += len(labels)
        if _multi_label(options, labels):
            scores = rows[:, [contra, entail]].softmax(-1)[:, 1]
        else:
            scores = rows[:, entail].softmax(-1)
        results.append((labels, scores.tolist()))
    return results


def _multi_label(options: dict[str, Any], labels: list[str]) -> bool:
    # A lone label has nothing to compete with: entailment vs contradiction, as the pipeline does.
    return bool(options.get("multi_label", False)) or len(labels) == 1


def _finish_zero_shot(loaded: Loaded, call: Call, raw: tuple[list[str], list[float]]) -> TaskOutput:
    labels, scores = raw
    top_k = call.options.get("top_k")
    ranked = _ranked(labels, scores, int(top_k) if top_k is not None else None)
    return _labels_output(ranked, multi_label=_multi_label(call.options, labels))


# ---------------------------------------------------------------- token-classification


def load_token_classification(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a token tagger (NER, parts of speech) as a transformers ``token-classification`` pipeline.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The loaded pipeline.
    """
    return pipeline_of("token-classification", card, options)


def _tag(loaded: Loaded, texts: list[str], options: dict[str, Any]) -> list[list[dict[str, Any]]]:
    import torch

    strategy = str(options.get("aggregation_strategy", "simple"))
    with torch.inference_mode():
        found = loaded.model(texts, aggregation_strategy=strategy, batch_size=len(texts))
    return [list(entities) for entities in found]


def _finish_tagging(loaded: Loaded, call: Call, found: list[dict[str, Any]]) -> TaskOutput:
    text = _text_of(call)
    entities = []
    for item in found:
        start, end = item.get("start"), item.get("end")
        word = text[start:end] if isinstance(start, int) and isinstance(end, int) else str(item["word"])
        entities.append(
            {
                "entity": str(item.get("entity_group", item.get("entity", ""))),
                "word": word,
                "score": float(item["score"]),
                "start": start,
                "end": end,
            }
        )
    rendered = ", ".join(f"{e['word']} ({e['entity']} {e['score']:.2f})" for e in entities)
    return TaskOutput(text=rendered or "no entities found", data={"entities": entities})


# ---------------------------------------------------------------- fill-mask


def load_fill_mask(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a masked language model (BERT, RoBERTa, ...) with its tokenizer.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its tokenizer.
    """
    return model_and_tokenizer("AutoModelForMaskedLM", card, options)


def _masked_text(loaded: Loaded, call: Call) -> str:
    text = _text_of(call)
    for spelling in MASK_SPELLINGS:
        text = text.replace(spelling, loaded.tokenizer.mask_token)
    return text


def _fill_mask_item(loaded: Loaded, call: Call) -> dict[str, Any]:
    encoding = _encode(loaded, call, _masked_text(loaded, call))
    if loaded.tokenizer.mask_token_id not in encoding["input_ids"]:
        raise InputError(
            f"the text has no mask to fill: write {' or '.join(MASK_SPELLINGS)} where a word is missing"
        )
    return encoding


def _fill(
    loaded: Loaded, items: list[dict[str, Any]], options: dict[str, Any]
) -> list[list[list[tuple[int, float]]]]:
    import torch

    logits = _forward_padded(loaded, items)
    top_k = int(options.get("top_k", 5))
    results = []
    for row, item in zip(logits, items, strict=True):
        positions = [
            i for i, token in enumerate(item["input_ids"]) if token == loaded.tokenizer.mask_token_id
        ]
        best = torch.topk(row[positions].softmax(-1), k=min(top_k, row.shape[-1]), dim=-1)
        results.append(
            [
                list(zip(ids, scores, strict=True))
                for ids, scores in zip(best.indices.tolist(), best.values.tolist(), strict=True)
            ]
        )
    return results


def _finish_fill_mask(loaded: Loaded, call: Call, masks: list[list[tuple[int, float]]]) -> TaskOutput:
    tokenizer = loaded.tokenizer
    candidates = [
        [
            {"token": token, "token_str": tokenizer.decode([token]).strip(), "score": score}
            for token, score in mask
        ]
        for mask in masks
    ]
    first, *rest = _masked_text(loaded, call).split(tokenizer.mask_token)
    sequence = first
    for index, piece in enumerate(rest):  # masks cut off by truncation stay masks
        fill = candidates[index][0]["token_str"] if index < len(candidates) else tokenizer.mask_token
        if fill.startswith("##"):  # a WordPiece continuation joins the word before it
            sequence, fill = sequence.rstrip(), fill[2:]
        sequence += fill + piece
    best, *others = candidates[0]
    text = f"{sequence} ({best['score']:.2f})"
    if others:
        text += "; alternatives: " + scored([(item["token_str"], item["score"]) for item in others])
    return TaskOutput(text=text, data={"sequence": sequence, "masks": candidates})


def _prepare_text(_loaded: Loaded, call: Call) -> str:
    return _text_of(call)


def _prepare_classification(loaded: Loaded, call: Call) -> dict[str, Any]:
    return _encode(loaded, call, _text_of(call))


RUNNERS: tuple[Runner, ...] = (
    Runner.batched(
        "transformers/text-classification",
        load_text_classification,
        BatchSteps(_prepare_classification, _classify, _finish_classification),
    ),
    Runner.batched(
        "transformers/zero-shot-classification",
        load_text_classification,
        BatchSteps(_zero_shot_item, _zero_shot, _finish_zero_shot),
        shares="transformers/text-classification",
    ),
    Runner.batched(
        "transformers/token-classification",
        load_token_classification,
        BatchSteps(_prepare_text, _tag, _finish_tagging),
    ),
    Runner.batched(
        "transformers/fill-mask", load_fill_mask, BatchSteps(_fill_mask_item, _fill, _finish_fill_mask)
    ),
)
