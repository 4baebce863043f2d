"""The `hugginggpt` command: run a request, chat in a durable thread, serve HTTP, list models, examples."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graph.context import ConfigError, load_context
from hugginggpt.console import EXIT_OK, EXIT_USAGE, chat, run_once
from hugginggpt.eval.cli import add_eval_parser, run_eval


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `hugginggpt` command."""
    parser = argparse.ArgumentParser(prog="hugginggpt", description=__doc__)
    parser.add_argument("--config", help="settings file (default: configs/default.yaml)")
    parser.add_argument("--controller", help="controller LLM, provider/model (e.g. openai/gpt-4o-mini)")
    parser.add_argument("--workspace", dest="workspace_dir", help="folder for produced files")
    parser.add_argument("--inputs-dir", help="folder input paths resolve against (plans read only from here)")
    parser.add_argument("--device", help="auto, cpu or cuda")
    parser.add_argument(
        "--inference-mode", choices=["local", "remote", "hybrid"], help="where models run (default local)"
    )
    parser.add_argument("--threads", help="durable threads: a SQLite file or a postgresql:// URL")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="answer one request")
    run.add_argument("request", help="the request, naming input files by path or URL")
    run.add_argument("--plan", type=Path, help="a JSON plan to execute instead of asking the planner")
    run.add_argument("--json", action="store_true", help="print the whole final state as JSON")
    talk = commands.add_parser("chat", help="a chat REPL in a durable thread")
    talk.add_argument("--thread", help="continue this thread (its id is printed when a chat starts)")
    talk.add_argument("--review", action="store_true", help="ask before running each plan")
    serve = commands.add_parser("serve", help="serve LangServe and the HuggingGPT HTTP routes")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1; others need HUGGINGGPT_API_KEY)")
    serve.add_argument("--port", type=int, help="port (default 8004)")
    serve.add_argument("--cors-origins", help="comma-separated browser origins allowed to call the API")
    models = commands.add_parser("models", help="the model table; pull a model; refresh the catalog")
    models.add_argument("--task", help="only this task type")
    models.add_argument("--json", action="store_true", help="print the rows as JSON")
    models_commands = models.add_subparsers(dest="models_command")
    pull = models_commands.add_parser("pull", help="download a hub model into the Hugging Face cache")
    pull.add_argument("model_id")
    refresh = models_commands.add_parser("refresh", help="rebuild the hub catalog from the Hub's top models")
    refresh.add_argument("--top", type=int, default=5, help="models per task type (default 5)")
    refresh.add_argument("--out", type=Path, help="file to write (default: the first configured catalog)")
    add_eval_parser(commands)
    examples = commands.add_parser("examples", help="write real example inputs (photos, speech)")
    examples.add_argument("folder", nargs="?", default="examples", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 done, 1 nothing could be done, 2 bad usage or configuration.
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command == "examples":
        from hugginggpt.examples import write_examples

        for name, path in write_examples(args.folder).items():
            print(f"{name}: {path}")
        return EXIT_OK
    try:
        context = load_context(
            args.config,
            controller=args.controller,
            workspace_dir=args.workspace_dir,
            inputs_dir=args.inputs_dir,
            device=args.device,
            inference_mode=args.inference_mode,
            threads=args.threads,
            review_plan=True if getattr(args, "review", False) else None,
        )
        if args.command == "serve":
            return _serve(args, context)
        if args.command == "models":
            return _models(args, context)
        if args.command == "eval":
            return run_eval(args, context)
        if args.command == "chat":
            return asyncio.run(chat(context, args.thread))
        plan = read_plan(args.plan) if args.plan else None
        return asyncio.run(run_once(args.request, plan, context, as_json=args.json))
    except (ConfigError, PlanFileError) as error:
        print(f"hugginggpt: {error}", file=sys.stderr)
        return EXIT_USAGE


def _models(args: argparse.Namespace, context: Any) -> int:
    from hugginggpt import models_cli

    if args.models_command == "pull":
        return models_cli.pull(args.model_id, context)
    if args.models_command == "refresh":
        return models_cli.refresh(context, args.top, args.out)
    return models_cli.list_models(context, args.task, args.json)


def _serve(args: argparse.Namespace, context: Any) -> int:
    from hugginggpt.settings import load_serve_settings

    settings = load_serve_settings(
        args.config, host=args.host, port=args.port, cors_origins=args.cors_origins
    )
    from hugginggpt.server import serve

    return serve(context, settings.checked())


class PlanFileError(ValueError):
    """The --plan file is missing or is not a JSON plan."""


def read_plan(path: Path) -> list[dict[str, Any]]:
    """Read a plan file: a JSON list of tasks, or an object with a ``tasks`` list.

    Raises:
        PlanFileError: naming the file and what is wrong with it.
    """
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanFileError(f"cannot read plan file {path}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise PlanFileError(f"plan file {path} is not JSON: {error}") from error
    tasks = value.get("tasks") if isinstance(value, dict) else value
    if not isinstance(tasks, list) or not all(isinstance(task, dict) for task in tasks):
        raise PlanFileError(f"plan file {path} must hold a list of task objects (or {{'tasks': [...]}})")
    return tasks


if __name__ == "__main__":
    sys.exit(main())
