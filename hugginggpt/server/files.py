"""Files over HTTP: uploads become inputs a request can name; outputs are served at /files/<run>/<name>."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse

from hugginggpt.server.hub import hub_of
from tools.registry import FILE_SUFFIXES

router = APIRouter(tags=["files"])

FILES_URL = "/files"
"""Where produced files are served; answers name them by this URL path."""
UPLOADS = "uploads"
"""The folder under the inputs folder that uploads go to (one sub-folder per upload)."""
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_CHUNK = 1024 * 1024
ACCEPTED = tuple(suffix for suffixes in FILE_SUFFIXES.values() for suffix in suffixes)


def safe_name(name: str) -> str:
    """Return an upload's file name reduced to letters, digits, ``.``, ``-`` and ``_`` (no folders)."""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip(".-") or "upload"
    stem, dot, suffix = cleaned.rpartition(".")
    return f"{stem[:80]}.{suffix[:10]}" if dot and stem else cleaned[:90]


@router.post("/upload", summary="Upload input files (images, audio, video); name them in a request by path")
async def upload(request: Request, file: list[UploadFile]) -> dict[str, Any]:
    """Save uploaded files under the inputs folder and return the paths a request names them by."""
    hub = hub_of(request)
    folder_name = uuid.uuid4().hex[:12]
    folder = Path(hub.context.inputs_dir) / UPLOADS / folder_name
    limit = hub.settings.max_upload_bytes
    saved = []
    for item in file:
        name = safe_name(item.filename or "upload")
        if not name.lower().endswith(ACCEPTED):
            raise HTTPException(
                415, f"{item.filename!r}: only images, audio and video ({', '.join(ACCEPTED)})"
            )
        size = await _save(item, folder / name, limit)
        saved.append(
            {
                "name": name,
                "path": f"{UPLOADS}/{folder_name}/{name}",
                "bytes": size,
                "content_type": item.content_type,
            }
        )
    return {"files": saved}


async def _save(item: UploadFile, target: Path, limit: int) -> int:
    """Copy an upload to ``target`` (whole or not at all), refusing it past ``limit`` bytes."""
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    fd, temporary = await asyncio.to_thread(tempfile.mkstemp, dir=target.parent, prefix=".partial-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            while chunk := await item.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, f"{item.filename!r} is over the {limit}-byte upload limit")
                await asyncio.to_thread(handle.write, chunk)
        await asyncio.to_thread(os.replace, temporary, target)
    except BaseException:
        await asyncio.to_thread(Path(temporary).unlink, missing_ok=True)
        raise
    return size


@router.get(FILES_URL + "/{run}/{name}", summary="A file a run produced")
async def produced_file(request: Request, run: str, name: str) -> FileResponse:
    """Serve a produced file; nothing outside the runs' folders can be named."""
    if not (_PLAIN_NAME.match(run) and _PLAIN_NAME.match(name)):
        raise HTTPException(404, "no such file")
    workspace = Path(request.app.state.hub.context.workspace_dir)
    path = workspace / run / name
    found = await asyncio.to_thread(_inside, path, workspace)
    if not found:
        raise HTTPException(404, f"no file {name} in run {run}")
    return FileResponse(path)


def _inside(path: Path, folder: Path) -> bool:
    return path.is_file() and path.resolve().is_relative_to(folder.resolve())
