"""The ``hugginggpt eval`` commands on TaskBench data: ``plan`` and ``execute``.

``plan`` scores the planner (and a no-LLM baseline); ``execute`` runs the gold plans on the configured models.
"""

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
    """Add ``eval plan`` and ``eval execute`` to the ``hugginggpt`` subcommands.

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
    add_execute_parser(kinds)
    return evaluate


def add_execute_parser(kinds: Any) -> argparse.ArgumentParser:
    """Add ``eval execute``: run the gold plans on the configured models, and say what ran end to end."""
    execute = kinds.add_parser(
        "execute", help="run TaskBench's gold plans on the configured models (stand-in input files)"
    )
    execute.add_argument("--data", type=Path, required=True, help="TaskBench JSONL (task_nodes, instruction)")
    execute.add_argument("--limit", type=int, help="run only the first N requests")
    execute.add_argument("--out", type=Path, help="write one result a line here (JSONL)")
    execute.add_argument(
        "--use-controller",
        action="store_true",
        help="let the configured controller choose models and answer (default: none; most downloaded)",
    )
    return execute


def run_eval(args: argparse.Namespace, context: Context) -> int:
    """Run ``eval plan``: plan each request, score it, print the tables, write the predictions.

    Args:
        args: the parsed ``eval plan`` arguments (``data``, ``limit``, ``out``, ``baseline``,
            ``skip_planner``).
        context: the settings (the controller and planning limits).

    Returns:
        0 when done, 2 for a bad data file, option or setting (the reason goes to stderr).
    """
    if getattr(args, "eval_command", "plan") == "execute":
        return run_execute(args, context)
    try:
        if getattr(args, "skip_planner", False) and not args.baseline:
            raise InputError("--skip-planner needs --baseline")
        if args.limit is not None and args.limit < 1:
            raise InputError("--limit must be at least 1")
        records = read_records(args.data)
        tools = read_tools(args.data)
        count = min(args.limit or len(records), len(records))
        if not getattr(args, "skip_planner", False):
            _evaluate_planner(records[:count], records, tools, context, args.out, sys.stdout)
        if args.baseline == "nearest":
            baseline_out = _baseline_path(args.out, planner=not getattr(args, "skip_planner", False))
            _evaluate_baseline(records, count, tools, baseline_out, sys.stdout)
    except (InputError, ConfigError) as error:
        sys.stderr.write(f"hugginggpt eval: {error}\n")
        return EXIT_USAGE
    return EXIT_OK


def run_execute(args: argparse.Namespace, context: Context) -> int:
    """Run ``eval execute``: each request's gold plan through the graph; print the table and the causes.

    Args:
        args: the parsed ``eval execute`` arguments (``data``, ``limit``, ``out``, ``use_controller``).
        context: the settings (catalogs, backends, limits).

    Returns:
        0 when done (whatever the plans gave), 2 for a bad data file, option or setting.
    """
    from hugginggpt.eval.execute import execute_file
    from hugginggpt.eval.execute_report import outcome_json, render_summary

    try:
        if args.limit is not None and args.limit < 1:
            raise InputError("--limit must be at least 1")
        outcomes = execute_file(args.data, context, args.limit, args.use_controller, progress=_show_executed)
    except (InputError, ConfigError) as error:
        sys.stderr.write(f"hugginggpt eval: {error}\n")
        return EXIT_USAGE
    if args.out is not None:
        write_jsonl(args.out, (outcome_json(outcome) for outcome in outcomes))
    chooser = context.controller if args.use_controller else "no controller (most downloaded model)"
    title = f"gold plans of {len(outcomes)} TaskBench requests on {', '.join(context.catalogs)}; {chooser}"
    sys.stdout.write(render_summary(title, outcomes))
    return EXIT_OK


def _show_executed(done: int, total: int) -> None:
    sys.stderr.write(f"\rexecuted {done}/{total}" + ("\n" if done == total else ""))
    sys.stderr.flush()


def _baseline_path(out: Path | None, planner: bool) -> Path | None:
    """Return where the baseline's predictions go: ``--out`` itself, or beside the planner's."""
    if out is None or not planner:
        return out
    return out.with_name(f"{out.stem}.nearest{out.suffix or '.jsonl'}")


def _evaluate_planner(
    records: list[GoldRecord],
    pool: list[GoldRecord],
    tools: Any,
    context: Context,
    out: Path | None,
    stream: TextIO,
) -> None:
    """Plan and score ``records``; demos come from the other records of ``pool`` (the whole file)."""
    resources = Resources.build(context)
    try:
        planned = asyncio.run(
            plan_records(records, resources, context, tools, progress=_show_progress, pool_records=pool)
        )
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
