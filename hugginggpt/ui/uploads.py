"""Files dropped on the page become inputs a request can name, as ``POST /upload`` makes them."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hugginggpt.server.files import ACCEPTED, UPLOADS, safe_name


class UploadRefused(ValueError):
    """An attached file is not an image, a sound or a video, or is too large."""


def check_upload(path: Path, limit_bytes: int) -> str:
    """Return the name an attached file is kept under.

    Raises:
        UploadRefused: naming the file and the rule it breaks.
    """
    name = safe_name(path.name)
    if not name.lower().endswith(ACCEPTED):
        raise UploadRefused(f"{path.name}: only images, audio and video ({', '.join(ACCEPTED)})")
    if path.stat().st_size > limit_bytes:
        raise UploadRefused(f"{path.name} is over the {limit_bytes}-byte upload limit")
    return name


def keep_uploads(files: Sequence[str], inputs_dir: str, limit_bytes: int) -> list[str]:
    """Copy attached files under ``<inputs>/uploads/<folder>/`` and return the paths a request names.

    Args:
        files: the attached files (where the page saved them).
        inputs_dir: the inputs folder requests read from.
        limit_bytes: the largest file accepted.

    Raises:
        UploadRefused: when a file is not accepted (nothing is kept then).
    """
    if not files:
        return []
    sources = [(Path(file), check_upload(Path(file), limit_bytes)) for file in files]
    folder_name = uuid.uuid4().hex[:12]
    folder = Path(inputs_dir) / UPLOADS / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    named = []
    for source, name in sources:
        shutil.copyfile(source, folder / name)
        named.append(f"{UPLOADS}/{folder_name}/{name}")
    return named


async def keep_uploads_async(files: Sequence[str], inputs_dir: str, limit_bytes: int) -> list[str]:
    """Do `keep_uploads` off the event loop."""
    return await asyncio.to_thread(keep_uploads, files, inputs_dir, limit_bytes)


def request_text(text: str, uploaded: Sequence[str]) -> str:
    """Return the request the planner reads: the user's words, then the uploaded files by path."""
    words = text.strip()
    if not uploaded:
        return words
    files = " ".join(uploaded)
    return f"{words}\n(attached: {files})" if words else f"(attached: {files})"


def name_attachments(
    plan: list[dict[str, Any]] | None, files: Sequence[str], uploaded: Sequence[str]
) -> list[dict[str, Any]] | None:
    """Return a given plan whose arguments naming an attached file by its name now name its upload path.

    A user writing a plan cannot know the folder an upload will get: ``"image": "cat.png"`` names the
    attached ``cat.png``.

    Args:
        plan: the given plan (None: no plan).
        files: the attached files, as the page saved them (their names are the user's).
        uploaded: the paths the same files were kept under, in the same order.
    """
    if plan is None:
        return None
    by_name: dict[str, str] = {}
    for file, path in zip(files, uploaded, strict=True):
        by_name[Path(file).name] = path
        by_name[safe_name(Path(file).name)] = path
    named = []
    for task in plan:
        args = task.get("args")
        if isinstance(args, dict):
            args = {
                key: by_name.get(value, value) if isinstance(value, str) else value
                for key, value in args.items()
            }
            task = {**task, "args": args}
        named.append(task)
    return named
