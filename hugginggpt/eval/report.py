"""Show evaluation results: the metrics table, and prediction files written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hugginggpt.eval.scoring import METRICS, Summary

COLUMNS = (
    "",
    "n",
    "node F1",
    "link F1",
    "arg-name F1",
    "arg-value F1",
    "valid %",
    "repairs",
    "s/plan p50/p90",
)
"""The table's header; rows are overall, single, chain, dag."""


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table_rows(summaries: Mapping[str, Summary], planner: bool = True) -> list[list[str]]:
    """Return the table's cells, header first.

    Args:
        summaries: ``overall`` and each shape -> its summary.
        planner: whether valid %, repairs and times describe a planner (the baseline shows only time).
    """
    rows = [list(COLUMNS)]
    for name, summary in summaries.items():
        empty = summary.n == 0
        times = "-" if empty else f"{_number(summary.seconds_p50, 2)}/{_number(summary.seconds_p90, 2)}"
        rows.append(
            [
                name,
                str(summary.n),
                *(_number(summary.f1[metric]) for metric in METRICS),
                _number(summary.valid_percent) if planner else "-",
                _number(summary.repairs, 2) if planner else "-",
                times,
            ]
        )
    return rows


def render_table(title: str, summaries: Mapping[str, Summary], planner: bool = True) -> str:
    """Return the metrics table as aligned text under ``title`` ("-": nothing to score)."""
    rows = table_rows(summaries, planner)
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    lines = [title]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
    return "\n".join(lines) + "\n"


def write_jsonl(path: Path, lines: Iterable[Mapping[str, Any]]) -> None:
    """Write one JSON object a line, atomically (a temporary file beside ``path``, then renamed).

    Raises:
        OSError: when the folder cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            for line in lines:
                stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
