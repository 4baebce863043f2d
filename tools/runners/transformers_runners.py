"""Runners for Hugging Face models loaded in-process with transformers (v5) and diffusers.

One runner per task type, named ``transformers/<task>``. Importing this module imports neither torch nor
transformers: they are imported when a model is loaded. transformers 5 removed the summarization, translation,
question-answering and visual-question-answering pipelines, so those runners call the model classes directly;
image classification, object detection, speech recognition and speech synthesis use ``pipeline()``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput

logger = logging.getLogger(__name__)

_GENERATION_KEYS = (
    "max_new_tokens",
    "min_new_tokens",
    "num_beams",
    "do_sample",
    "temperature",
    "top_k",
    "top_p",
    "repetition_penalty",
    "no_repeat_ngram_size",
    "length_penalty",
)
_DTYPE_ALIASES = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16"}
_BOX_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45")


@dataclass(frozen=True)
class Loaded:
    """A model with what prepares its inputs.

    Attributes:
        model: the model (in eval mode, on its device) or a pipeline.
        processor: the tokenizer, processor or image processor that prepares inputs (None for pipelines).
        tokenizer: the tokenizer that decodes outputs (may be the processor's own).
        device: the device the model is on.
    """

    model: Any
    processor: Any = None
    tokenizer: Any = None
    device: str = "cpu"


# ---------------------------------------------------------------- loading helpers


def torch_dtype(options: LoadOptions) -> Any:
    """Return the torch dtype to load with: ``options.dtype``, but always float32 on a CPU.

    Args:
        options: the device and dtype.

    Returns:
        A ``torch.dtype``.

    Raises:
        ValueError: for a name that is not a floating torch dtype.
    """
    import torch

    name = _DTYPE_ALIASES.get(options.dtype, options.dtype)
    if options.device.startswith("cpu"):
        if name != "float32":
            logger.info("dtype %s ignored on %s: loading in float32", options.dtype, options.device)
        return torch.float32
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"unknown dtype {options.dtype!r}")
    return dtype


def _from_pretrained(cls: Any, card: ModelCard, options: LoadOptions) -> Any:
    model = cls.from_pretrained(card.location, dtype=torch_dtype(options))
    return model.to(options.device).eval()


def _pipeline(task: str, card: ModelCard, options: LoadOptions) -> Loaded:
    from transformers import pipeline

    make: Any = pipeline  # its overloads want a literal task name
    pipe = make(task, model=card.location, device=options.device, dtype=torch_dtype(options))
    return Loaded(model=pipe, device=options.device)


def _to_model(batch: Any, model: Any) -> dict[str, Any]:
    """Move a processor's tensors to the model's device, casting floating ones to its dtype."""
    import torch

    moved: dict[str, Any] = {}
    for key, value in dict(batch).items():
        if isinstance(value, torch.Tensor):
            value = (
                value.to(model.device, dtype=model.dtype)
                if value.is_floating_point()
                else value.to(model.device)
            )
        moved[key] = value
    return moved


def _generation_kwargs(call: Call, max_new_tokens: int) -> dict[str, Any]:
    """Return the generation settings from the card options, with a default ``max_new_tokens``."""
    kwargs = {key: call.options[key] for key in _GENERATION_KEYS if key in call.options}
    kwargs.setdefault("max_new_tokens", max_new_tokens)
    return kwargs


def _max_input_tokens(tokenizer: Any, model: Any, call: Call) -> int:
    """Return how many input tokens fit: the option, the tokenizer's limit, or the position embeddings."""
    limits = [int(call.options["max_input_tokens"])] if "max_input_tokens" in call.options else []
    if 0 < getattr(tokenizer, "model_max_length", 0) < 1_000_000:
        limits.append(int(tokenizer.model_max_length))
    config = getattr(model, "config", None)
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    return min(limits) if limits else 512


def _decode(tokenizer: Any, ids: Any) -> str:
    return str(tokenizer.decode(ids, skip_special_tokens=True)).strip()


def _scored(items: list[tuple[str, float]]) -> str:
    return ", ".join(f"{label} ({score:.2f})" for label, score in items)


# ---------------------------------------------------------------- image-classification


def load_image_classification(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load an image classifier as a transformers pipeline.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The loaded pipeline.
    """
    return _pipeline("image-classification", card, options)


def run_image_classification(loaded: Loaded, call: Call) -> TaskOutput:
    """Name what an image shows: the top labels with scores (option ``top_k``, default 5).

    Args:
        loaded: the pipeline.
        call: args ``image``.

    Returns:
        ``text`` like ``cat (0.91), dog (0.05)``; ``data["labels"]`` the list of ``{label, score}``.
    """
    import torch

    image = call.workspace.load_image(call.args["image"])
    with torch.inference_mode():
        predictions = loaded.model(image, top_k=int(call.options.get("top_k", 5)))
    scored = [(str(p["label"]), float(p["score"])) for p in predictions]
    labels = [{"label": label, "score": score} for label, score in scored]
    return TaskOutput(text=_scored(scored), data={"labels": labels})


# ---------------------------------------------------------------- image-to-text


def load_image_to_text(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a captioning model (BLIP, GIT, VisionEncoderDecoder ...) with generic auto classes.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its processor (or image processor) and tokenizer.
    """
    from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoProcessor, AutoTokenizer
    from transformers.processing_utils import ProcessorMixin

    model = _from_pretrained(AutoModelForImageTextToText, card, options)
    processor = AutoProcessor.from_pretrained(card.location)
    if isinstance(processor, ProcessorMixin):
        return Loaded(model, processor, processor.tokenizer, options.device)
    # VisionEncoderDecoder folders have no processor class: an image processor plus a tokenizer.
    image_processor = AutoImageProcessor.from_pretrained(card.location)
    return Loaded(model, image_processor, AutoTokenizer.from_pretrained(card.location), options.device)


def run_image_to_text(loaded: Loaded, call: Call) -> TaskOutput:
    """Caption an image (options ``prompt`` for conditional captioning, ``max_new_tokens`` default 30).

    Args:
        loaded: model, processor and tokenizer.
        call: args ``image``.

    Returns:
        The caption in ``text``.
    """
    import torch
    from transformers.processing_utils import ProcessorMixin

    image = call.workspace.load_image(call.args["image"])
    prompt = call.options.get("prompt")
    if isinstance(loaded.processor, ProcessorMixin) and prompt:
        batch = loaded.processor(images=image, text=prompt, return_tensors="pt")
    elif isinstance(loaded.processor, ProcessorMixin):
        batch = loaded.processor(images=image, return_tensors="pt")
    else:
        batch = {"pixel_values": loaded.processor(image, return_tensors="pt")["pixel_values"]}
    with torch.inference_mode():
        ids = loaded.model.generate(**_to_model(batch, loaded.model), **_generation_kwargs(call, 30))
    return TaskOutput(text=_decode(loaded.tokenizer, ids[0]))


# ---------------------------------------------------------------- object-detection


def load_object_detection(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load an object detector (DETR, YOLOS, ...) as a transformers pipeline.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The loaded pipeline.
    """
    return _pipeline("object-detection", card, options)


def run_object_detection(loaded: Loaded, call: Call) -> TaskOutput:
    """Find objects (option ``threshold``, default 0.5) and save a copy of the image with them drawn.

    Args:
        loaded: the pipeline.
        call: args ``image``.

    Returns:
        ``data["objects"]``: ``{label, score, box: {xmin, ymin, xmax, ymax}}`` by falling score; ``text`` a
        one-line summary; ``image`` the annotated copy.
    """
    import torch

    image = call.workspace.load_image(call.args["image"])
    with torch.inference_mode():
        found = loaded.model(image, threshold=float(call.options.get("threshold", 0.5)))
    objects = [
        {
            "label": str(item["label"]),
            "score": float(item["score"]),
            "box": {key: float(item["box"][key]) for key in ("xmin", "ymin", "xmax", "ymax")},
        }
        for item in sorted(found, key=lambda item: -float(item["score"]))
    ]
    path = call.workspace.save_image(draw_boxes(image, objects), call.stem)
    return TaskOutput(text=summarize_objects(objects), image=str(path), data={"objects": objects})


def draw_boxes(image: Any, objects: list[dict[str, Any]]) -> Any:
    """Return a copy of ``image`` with each object's box and label drawn.

    Args:
        image: a PIL image (left unchanged).
        objects: ``{label, score, box: {xmin, ymin, xmax, ymax}}`` dicts.

    Returns:
        The annotated copy, the same size as ``image``.
    """
    from PIL import ImageDraw

    canvas = image.copy()
    draw = ImageDraw.Draw(canvas)
    labels = sorted({obj["label"] for obj in objects})
    width = max(1, round(min(canvas.size) / 200))
    for obj in objects:
        box = obj["box"]
        colour = _BOX_COLOURS[labels.index(obj["label"]) % len(_BOX_COLOURS)]
        corners = (box["xmin"], box["ymin"], max(box["xmin"], box["xmax"]), max(box["ymin"], box["ymax"]))
        draw.rectangle(corners, outline=colour, width=width)
        draw.text((box["xmin"] + 2, box["ymin"] + 1), f"{obj['label']} {obj['score']:.2f}", fill=colour)
    return canvas


def summarize_objects(objects: list[dict[str, Any]], limit: int = 10) -> str:
    """Return a one-line summary such as ``2 objects: cat (0.98), dog (0.91)``.

    Args:
        objects: detections, best first.
        limit: how many to name.

    Returns:
        The summary.
    """
    if not objects:
        return "no objects found"
    noun = "object" if len(objects) == 1 else "objects"
    named = _scored([(obj["label"], obj["score"]) for obj in objects[:limit]])
    more = f", and {len(objects) - limit} more" if len(objects) > limit else ""
    return f"{len(objects)} {noun}: {named}{more}"


# ---------------------------------------------------------------- visual-question-answering


def load_visual_question_answering(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a VQA model: a classifier over answers (ViLT) or a generative one (BLIP).

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its processor.
    """
    from transformers import AutoModelForVisualQuestionAnswering, AutoProcessor

    model = _from_pretrained(AutoModelForVisualQuestionAnswering, card, options)
    processor = AutoProcessor.from_pretrained(card.location)
    return Loaded(model, processor, getattr(processor, "tokenizer", None), options.device)


def run_visual_question_answering(loaded: Loaded, call: Call) -> TaskOutput:
    """Answer a question about an image (option ``top_k`` for classifiers, default 5).

    Args:
        loaded: model and processor.
        call: args ``image`` and ``text`` (the question).

    Returns:
        The best answer in ``text``; ``data["answers"]`` ``{answer, score}`` (score None when generated).
    """
    import torch

    image = call.workspace.load_image(call.args["image"])
    batch = loaded.processor(images=image, text=call.args["text"], truncation=True, return_tensors="pt")
    inputs = _to_model(batch, loaded.model)
    with torch.inference_mode():
        if loaded.model.can_generate():
            ids = loaded.model.generate(**inputs, **_generation_kwargs(call, 10))
            answers: list[dict[str, Any]] = [{"answer": _decode(loaded.tokenizer, ids[0]), "score": None}]
        else:
            answers = _top_answers(
                loaded.model, loaded.model(**inputs).logits[0], int(call.options.get("top_k", 5))
            )
    return TaskOutput(text=answers[0]["answer"], data={"answers": answers})


def _top_answers(model: Any, logits: Any, top_k: int) -> list[dict[str, Any]]:
    # ViLT is trained with a multi-label loss: sigmoid scores, as the removed v4 pipeline did.
    scores = logits.float().sigmoid()
    best = scores.topk(min(top_k, scores.numel()))
    labels = model.config.id2label
    return [
        {"answer": str(labels[int(index)]), "score": float(score)}
        for score, index in zip(best.values.tolist(), best.indices.tolist(), strict=True)
    ]


# ---------------------------------------------------------------- text-to-image


def load_text_to_image(card: ModelCard, options: LoadOptions) -> Any:
    """Load a diffusers text-to-image pipeline (``DiffusionPipeline.from_pretrained``).

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The pipeline, on its device, with its progress bar off.
    """
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(card.location, dtype=torch_dtype(options))
    pipe = pipe.to(options.device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run_text_to_image(pipe: Any, call: Call) -> TaskOutput:
    """Generate an image from ``text`` and save it as PNG.

    Options: ``num_inference_steps`` (default 25), ``guidance_scale``, ``height``, ``width``,
    ``negative_prompt``, ``seed``.

    Args:
        pipe: the diffusers pipeline.
        call: args ``text`` (the prompt).

    Returns:
        ``image`` the PNG's path; ``data`` its size and step count.
    """
    import torch

    kwargs: dict[str, Any] = {"num_inference_steps": int(call.options.get("num_inference_steps", 25))}
    for key in ("guidance_scale", "height", "width", "negative_prompt"):
        if key in call.options:
            kwargs[key] = call.options[key]
    if "seed" in call.options:
        kwargs["generator"] = torch.Generator(device=pipe.device).manual_seed(int(call.options["seed"]))
    with torch.inference_mode():
        image = pipe(call.args["text"], **kwargs).images[0]
    path = call.workspace.save_image(image, call.stem)
    data = {
        "width": image.width,
        "height": image.height,
        "num_inference_steps": kwargs["num_inference_steps"],
    }
    return TaskOutput(image=str(path), data=data)


# ---------------------------------------------------------------- text-to-speech


def load_text_to_speech(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a speech synthesizer (VITS/MMS, ...) as a transformers ``text-to-speech`` pipeline.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The loaded pipeline.
    """
    return _pipeline("text-to-speech", card, options)


def run_text_to_speech(loaded: Loaded, call: Call) -> TaskOutput:
    """Read ``text`` aloud into a WAV file (option ``seed`` makes VITS's noise repeatable).

    Args:
        loaded: the pipeline.
        call: args ``text``.

    Returns:
        ``audio`` the WAV's path; ``data`` its rate and length in seconds.
    """
    import numpy as np
    import torch

    if "seed" in call.options:
        torch.manual_seed(int(call.options["seed"]))
    with torch.inference_mode():
        speech = loaded.model(call.args["text"])
    samples = np.asarray(speech["audio"], dtype=np.float32).reshape(-1)
    rate = int(speech["sampling_rate"])
    path = call.workspace.save_audio(samples, rate, call.stem)
    return TaskOutput(audio=str(path), data={"sampling_rate": rate, "seconds": round(samples.size / rate, 3)})


# ---------------------------------------------------------------- automatic-speech-recognition


def load_speech_recognition(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a speech recognizer (Whisper, wav2vec2 CTC, ...) as a transformers pipeline.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The loaded pipeline.
    """
    return _pipeline("automatic-speech-recognition", card, options)


def run_speech_recognition(loaded: Loaded, call: Call) -> TaskOutput:
    """Transcribe a WAV file. The audio is decoded here (no ffmpeg) at the model's sampling rate.

    Options: ``chunk_length_s`` (long audio), ``return_timestamps``; for generative models (Whisper)
    ``language`` and ``max_new_tokens``.

    Args:
        loaded: the pipeline.
        call: args ``audio``.

    Returns:
        The transcript in ``text``.
    """
    import torch

    pipe = loaded.model
    rate = int(getattr(pipe.feature_extractor, "sampling_rate", 16000))
    audio = call.workspace.load_audio(call.args["audio"], sampling_rate=rate)
    kwargs: dict[str, Any] = {
        key: call.options[key] for key in ("chunk_length_s", "return_timestamps") if key in call.options
    }
    generate: dict[str, Any] = {}
    if "language" in call.options and pipe.model.config.model_type == "whisper":
        generate.update(language=call.options["language"], task="transcribe")
    if "max_new_tokens" in call.options and pipe.model.can_generate():
        generate["max_new_tokens"] = int(call.options["max_new_tokens"])
    if generate:
        kwargs["generate_kwargs"] = generate
    with torch.inference_mode():
        result = pipe(audio, **kwargs)
    return TaskOutput(text=str(result["text"]).strip(), data={"seconds": round(audio.size / rate, 3)})


# ---------------------------------------------------------------- summarization and translation


def load_seq2seq(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load an encoder-decoder text model (BART, T5, Marian, ...) with ``AutoModelForSeq2SeqLM``.

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The model with its tokenizer.
    """
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(card.location)
    model = _from_pretrained(AutoModelForSeq2SeqLM, card, options)
    return Loaded(model, tokenizer, tokenizer, options.device)


def _seq2seq(loaded: Loaded, text: str, call: Call, max_new_tokens: int, **extra: Any) -> str:
    import torch

    tokenizer = loaded.tokenizer
    limit = _max_input_tokens(tokenizer, loaded.model, call)
    batch = tokenizer(text, truncation=True, max_length=limit, return_tensors="pt")
    with torch.inference_mode():
        ids = loaded.model.generate(
            **_to_model(batch, loaded.model), **_generation_kwargs(call, max_new_tokens), **extra
        )
    return _decode(tokenizer, ids[0])


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
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(card.location)
    model = _from_pretrained(AutoModelForQuestionAnswering, card, options)
    return Loaded(model, tokenizer, tokenizer, options.device)


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
    limit = _max_input_tokens(tokenizer, loaded.model, call)
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
        out = loaded.model(**_to_model(windows, loaded.model))
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
    model = _from_pretrained(AutoModelForCausalLM, card, options)
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
    generation = _generation_kwargs(call, 50)
    room = _max_input_tokens(tokenizer, loaded.model, call) - int(generation["max_new_tokens"])
    batch = tokenizer(
        prompt, truncation=True, max_length=max(1, room), return_tensors="pt", add_special_tokens=not chat
    )
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    with torch.inference_mode():
        ids = loaded.model.generate(**_to_model(batch, loaded.model), pad_token_id=pad, **generation)
    generated = _decode(tokenizer, ids[0][batch["input_ids"].shape[1] :])
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
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(card.location)
    model = _from_pretrained(AutoModel, card, options)
    return Loaded(model, tokenizer, tokenizer, options.device)


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
    limit = _max_input_tokens(tokenizer, loaded.model, call)
    texts = [call.args["text"], call.args["other"]]
    batch = tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt")
    inputs = _to_model(batch, loaded.model)
    with torch.inference_mode():
        hidden = loaded.model(**inputs).last_hidden_state.float()
    weights = inputs["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    score = float(torch.nn.functional.cosine_similarity(pooled[0], pooled[1], dim=0))
    return TaskOutput(text=f"similarity: {score:.4f}", data={"score": score})


RUNNERS: tuple[Runner, ...] = (
    Runner("transformers/image-classification", load_image_classification, run_image_classification),
    Runner("transformers/image-to-text", load_image_to_text, run_image_to_text),
    Runner("transformers/object-detection", load_object_detection, run_object_detection),
    Runner(
        "transformers/visual-question-answering",
        load_visual_question_answering,
        run_visual_question_answering,
    ),
    Runner("transformers/text-to-image", load_text_to_image, run_text_to_image),
    Runner("transformers/text-to-speech", load_text_to_speech, run_text_to_speech),
    Runner("transformers/automatic-speech-recognition", load_speech_recognition, run_speech_recognition),
    Runner("transformers/summarization", load_seq2seq, run_summarization),
    Runner("transformers/translation", load_seq2seq, run_translation),
    Runner("transformers/question-answering", load_question_answering, run_question_answering),
    Runner("transformers/text-generation", load_text_generation, run_text_generation),
    Runner("transformers/sentence-similarity", load_sentence_similarity, run_sentence_similarity),
)
"""Every transformers/diffusers runner, named ``transformers/<task>``."""
