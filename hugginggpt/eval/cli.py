"""The ``hugginggpt eval plan`` command: score the planner (and a no-LLM baseline) on TaskBench data."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

from graph.context import ConfigError, Context
from graph.services import Resources
from hugginggpt.eval.baseline import nearest_baseline
from hugginggpt.eval.planning import plan_records
from hugginggpt.eval.report import render_table, write_jsonl
from hugginggpt.eval.scoring import summarize_by_shape
from hugginggpt.eval.taskbench import GoldRecord, read_records, read_tools
from tools.artifacts import InputError

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_USAGE = 2
BASELINES = ("nearest",)


def add_eval_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``eval plan`` to the ``hugginggpt`` subcommands.

    Args:
        commands: the object ``ArgumentParser.add_subparsers`` returned.

    Returns:
        The ``eval`` parser.
    """
    evaluate = commands.add_parser("eval", help="score the planner on a benchmark")
    kinds = evaluate.add_subparsers(dest="eval_command", required=True)
    plan = kinds.add_parser("plan", help="TaskBench plan metrics (node, link, argument F1) of the controller")
    plan.add_argument("--data", type=Path, required=True, help="TaskBench JSONL (task_nodes, instruction)")
    plan.add_argument("--limit", type=int, help="score only the first N requests")
    plan.add_argument(
        "--out",
        type=Path,
        help="write the predictions here (JSONL in TaskBench's shape; the baseline's: NAME.nearest.jsonl)",
    )
    plan.add_argument(
        "--baseline",
        choices=BASELINES,
        help="also score a no-LLM baseline: the plan of the most similar other request of the file",
    )
    plan.add_argument(
        "--skip-planner", action="store_true", help="score only the baseline (no controller is loaded)"
    )
    return evaluate


def run_eval(args: argparse.Namespace, context: Context) -> int:
    """Run ``eval plan``: plan each request, score it, print the tables, write the predictions.

    Args:
        args: the parsed ``eval plan`` arguments (``data``, ``limit``, ``out``, ``baseline``,
            ``skip_planner``).
        context: the settings (the controller and planning limits).

    Returns:
        0 when done, 2 for a bad data file, option or setting (the reason goes to stderr).
    """
    try:
        if getattr(args, "skip_planner", False) and not args.baseline:
            raise InputError("--skip-planner needs --baseline")
        if args.limit is not None and args.limit < 1:
            raise InputError("--limit must be at least 1")
        records = read_records(args.data)
        tools = read_tools(args.data)
        count = min(args.limit or len(records), len(records))
        if not getattr(args, "skip_planner", False):
            _evaluate_planner(records[:count], tools, context, args.out, sys.stdout)
        if args.baseline == "nearest":
            baseline_out = _baseline_path(args.out, planner=not getattr(args, "skip_planner", False))
            _evaluate_baseline(records, count, tools, baseline_out, sys.stdout)
    except (InputError, ConfigError) as error:
        sys.stderr.write(f"hugginggpt eval: {error}\n")
        return EXIT_USAGE
    return EXIT_OK


def _baseline_path(out: Path | None, planner: bool) -> Path | None:
    """Return where the baseline's predictions go: ``--out`` itself, or beside the planner's."""
    if out is None or not planner:
        return out
    return out.with_name(f"{out.stem}.nearest{out.suffix or '.jsonl'}")


def _evaluate_planner(
    records: list[GoldRecord], tools: Any, context: Context, out: Path | None, stream: TextIO
) -> None:
    resources = Resources.build(context)
    try:
        planned = asyncio.run(plan_records(records, resources, context, tools, progress=_show_progress))
    finally:
        resources.close()
    if out is not None:
        write_jsonl(out, planned.predictions)
    title = f"planner {context.controller} on {len(records)} TaskBench requests"
    stream.write(render_table(title, summarize_by_shape(planned.outcomes)))


def _evaluate_baseline(
    records: list[GoldRecord], count: int, tools: Any, out: Path | None, stream: TextIO
) -> None:
    outcomes, predictions = nearest_baseline(records, tools, count)
    if out is not None:
        write_jsonl(out, predictions)
    title = f"baseline nearest (leave-one-out over {len(records)} requests) on {count} requests"
    stream.write(render_table(title, summarize_by_shape(outcomes), planner=False))


def _show_progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rplanned {done}/{total}" + ("\n" if done == total else ""))
    sys.stderr.flush()
