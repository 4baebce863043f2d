"""Vision and audio task types on the Inference API: their `InferenceClient` calls and outputs.

Outputs match the local runners' (`tools.runners.vision`, `audio`, `diffusion`): produced images, audio
and video are saved in the workspace under ``call.stem``.
"""

from __future__ import annotations

import logging
from typing import Any

from tools.backends.remote_spec import (
    MIME_SUFFIXES,
    RemoteTask,
    as_list,
    field,
    image_path,
    input_path,
    label_list,
    labels_output,
    options_of,
    sniff_suffix,
)
from tools.runners.base import Call, TaskOutput
from tools.runners.drawing import BOX_COLOURS, draw_boxes, summarize_objects

logger = logging.getLogger(__name__)

_IMAGE_OPTIONS = ("negative_prompt", "num_inference_steps", "guidance_scale")


def _image(call: Call) -> dict[str, Any]:
    return {"image": image_path(call)}


def _audio(call: Call) -> dict[str, Any]:
    return {"audio": input_path(call, "audio")}


def _save_image(call: Call, image: Any) -> TaskOutput:
    path = call.workspace.save_image(image.convert("RGB"), call.stem)
    return TaskOutput(image=str(path), data={"width": image.width, "height": image.height})


# ---------------------------------------------------------------- image understanding


def _prepare_image_classification(call: Call) -> dict[str, Any]:
    return {**_image(call), "top_k": int(call.options.get("top_k", 5))}


def _prepare_zero_shot_image(call: Call) -> dict[str, Any]:
    return {
        **_image(call),
        "candidate_labels": label_list(call),
        **options_of(call, ("hypothesis_template",)),
    }


def _prepare_object_detection(call: Call) -> dict[str, Any]:
    return {**_image(call), "threshold": float(call.options.get("threshold", 0.5))}


def _finish_object_detection(call: Call, answer: Any) -> TaskOutput:
    objects = [
        {
            "label": str(field(item, "label")),
            "score": float(field(item, "score", 0.0)),
            "box": {
                key: float(field(field(item, "box"), key, 0.0)) for key in ("xmin", "ymin", "xmax", "ymax")
            },
        }
        for item in sorted(as_list(answer), key=lambda item: -float(field(item, "score", 0.0)))
    ]
    image = call.workspace.load_image(call.args["image"])
    path = call.workspace.save_image(draw_boxes(image, objects), call.stem)
    return TaskOutput(text=summarize_objects(objects), image=str(path), data={"objects": objects})


def _prepare_image_segmentation(call: Call) -> dict[str, Any]:
    return {**_image(call), **options_of(call, ("subtask", "threshold", "mask_threshold"))}


def _finish_image_segmentation(call: Call, answer: Any) -> TaskOutput:
    """Draw every mask over the image in its own colour; ``data["segments"]`` the labels, scores, areas."""
    import numpy as np
    from PIL import ImageColor

    image = call.workspace.load_image(call.args["image"])
    canvas = np.asarray(image, dtype=np.float32).copy()
    segments: list[dict[str, Any]] = []
    for index, item in enumerate(as_list(answer)):
        mask = np.asarray(field(item, "mask").convert("L").resize(image.size)) > 127
        colour = np.array(ImageColor.getrgb(BOX_COLOURS[index % len(BOX_COLOURS)]), dtype=np.float32)
        canvas[mask] = 0.5 * canvas[mask] + 0.5 * colour
        score = field(item, "score")
        segments.append(
            {
                "label": str(field(item, "label")),
                "score": None if score is None else float(score),
                "area": round(float(mask.mean()), 4),
            }
        )
    from PIL import Image

    overlay = Image.fromarray(canvas.clip(0, 255).astype(np.uint8))
    path = call.workspace.save_image(overlay, call.stem)
    segments.sort(key=lambda segment: -segment["area"])
    text = ", ".join(f"{seg['label']} {seg['area']:.0%}" for seg in segments) or "no segments found"
    return TaskOutput(text=text, image=str(path), data={"segments": segments})


def _finish_image_to_text(_call: Call, answer: Any) -> TaskOutput:
    return TaskOutput(text=str(field(answer, "generated_text", "")).strip())


def _prepare_image_question(call: Call) -> dict[str, Any]:
    return {**_image(call), "question": call.args["text"], **options_of(call, ("top_k",))}


def _finish_answers(_call: Call, answer: Any) -> TaskOutput:
    answers: list[dict[str, Any]] = [
        {"answer": str(field(item, "answer", "")).strip(), "score": float(field(item, "score", 0.0) or 0.0)}
        for item in as_list(answer)
    ]
    answers.sort(key=lambda item: -item["score"])
    return TaskOutput(text=str(answers[0]["answer"]) if answers else "", data={"answers": answers})


# ---------------------------------------------------------------- image and video generation


def _prepare_text_to_image(call: Call) -> dict[str, Any]:
    extra = options_of(call, (*_IMAGE_OPTIONS, "height", "width", "seed", "scheduler"))
    return {"prompt": call.args["text"], **extra}


def _prepare_image_to_image(call: Call) -> dict[str, Any]:
    prompt = call.args.get("text") or call.options.get("prompt")
    return {**_image(call), "prompt": prompt, **options_of(call, _IMAGE_OPTIONS)}


def _prepare_text_to_video(call: Call) -> dict[str, Any]:
    extra = options_of(call, ("num_frames", "num_inference_steps", "guidance_scale", "seed"))
    if call.options.get("negative_prompt"):
        extra["negative_prompt"] = [str(call.options["negative_prompt"])]
    return {"prompt": call.args["text"], **extra}


def _finish_text_to_video(call: Call, answer: Any) -> TaskOutput:
    data = bytes(answer)
    path = call.workspace.write_bytes(call.stem, sniff_suffix(data, ".mp4"), data)
    return TaskOutput(video=str(path), data={"bytes": len(data)})


# ---------------------------------------------------------------- audio


def _finish_text_to_speech(call: Call, answer: Any) -> TaskOutput:
    data = bytes(answer)
    suffix = sniff_suffix(data, "")
    if not suffix:
        logger.warning("unknown audio format from the Inference API; saving it as .wav")
        suffix = ".wav"
    path = call.workspace.write_bytes(call.stem, suffix, data)
    return TaskOutput(audio=str(path), data={"bytes": len(data), "format": suffix.lstrip(".")})


def _finish_speech_recognition(_call: Call, answer: Any) -> TaskOutput:
    chunks = [
        {"text": str(field(chunk, "text", "")), "timestamp": list(field(chunk, "timestamp", []) or [])}
        for chunk in field(answer, "chunks", None) or []
    ]
    return TaskOutput(text=str(field(answer, "text", "")).strip(), data={"chunks": chunks} if chunks else {})


def _prepare_audio_classification(call: Call) -> dict[str, Any]:
    return {**_audio(call), "top_k": int(call.options.get("top_k", 5))}


def _finish_audio_to_audio(call: Call, answer: Any) -> TaskOutput:
    outputs = []
    for item in as_list(answer):
        blob = bytes(field(item, "blob", b""))
        mime = str(field(item, "content_type", "")).split(";")[0].strip().lower()
        suffix = MIME_SUFFIXES.get(mime) or sniff_suffix(blob, ".wav")
        path = call.workspace.write_bytes(call.stem, suffix, blob)
        outputs.append({"label": str(field(item, "label", "")), "audio": str(path), "content_type": mime})
    text = ", ".join(item["label"] for item in outputs if item["label"]) or None
    return TaskOutput(text=text, audio=outputs[0]["audio"] if outputs else None, data={"outputs": outputs})


MEDIA_TASKS: dict[str, RemoteTask] = {
    "image-classification": RemoteTask("image_classification", _prepare_image_classification, labels_output),
    "zero-shot-image-classification": RemoteTask(
        "zero_shot_image_classification", _prepare_zero_shot_image, labels_output
    ),
    "object-detection": RemoteTask("object_detection", _prepare_object_detection, _finish_object_detection),
    "image-segmentation": RemoteTask(
        "image_segmentation", _prepare_image_segmentation, _finish_image_segmentation
    ),
    "image-to-text": RemoteTask("image_to_text", _image, _finish_image_to_text),
    "visual-question-answering": RemoteTask(
        "visual_question_answering", _prepare_image_question, _finish_answers
    ),
    "document-question-answering": RemoteTask(
        "document_question_answering", _prepare_image_question, _finish_answers
    ),
    "text-to-image": RemoteTask("text_to_image", _prepare_text_to_image, _save_image),
    "image-to-image": RemoteTask("image_to_image", _prepare_image_to_image, _save_image),
    "image-editing": RemoteTask("image_to_image", _prepare_image_to_image, _save_image),
    "text-to-video": RemoteTask("text_to_video", _prepare_text_to_video, _finish_text_to_video),
    "text-to-speech": RemoteTask(
        "text_to_speech", lambda call: {"text": call.args["text"]}, _finish_text_to_speech
    ),
    "automatic-speech-recognition": RemoteTask(
        "automatic_speech_recognition", _audio, _finish_speech_recognition
    ),
    "audio-classification": RemoteTask("audio_classification", _prepare_audio_classification, labels_output),
    "audio-to-audio": RemoteTask("audio_to_audio", _audio, _finish_audio_to_audio),
}
"""Vision and audio task type -> its Inference API call (depth-estimation: the client offers none)."""
