"""Durable threads: the checkpointer the CLI chat and the server keep conversations in.

SQLite by default (a file under the workspace folder); Postgres when ``threads`` is a ``postgresql://`` URL
(``langgraph-checkpoint-postgres``). Both keep each finished task of a run, so a killed process resumes
where it stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from graph.context import ConfigError, Context

POSTGRES_SCHEMES = ("postgres://", "postgresql://")


def threads_target(settings: Context) -> str:
    """Return where threads are kept: the ``threads`` setting, or ``<workspace_dir>/threads.sqlite``."""
    return settings.threads or str(Path(settings.workspace_dir) / "threads.sqlite")


def describe(target: str) -> str:
    """Return a target fit to print: a Postgres URL without its password."""
    if not target.startswith(POSTGRES_SCHEMES) or "@" not in target:
        return target
    scheme, rest = target.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def waiting_for(snapshot: Any) -> Any:
    """Return what a thread's run waits for (the plan review question), or None when it waits for nothing.

    Args:
        snapshot: the thread's `StateSnapshot`.
    """
    for task in snapshot.tasks:
        if task.interrupts:
            return task.interrupts[0].value
    return None


@asynccontextmanager
async def open_checkpointer(settings: Context) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """Open the threads' checkpointer for as long as the context lasts.

    Raises:
        ConfigError: when Postgres is asked for but its package is missing, or the store cannot be opened.
    """
    target = threads_target(settings)
    if target.startswith(POSTGRES_SCHEMES):
        try:
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        except ImportError as error:
            raise ConfigError("a postgresql:// threads URL needs langgraph-checkpoint-postgres") from error
        try:
            async with AsyncPostgresSaver.from_conn_string(target) as saver:
                await saver.setup()
                yield saver
        except OSError as error:
            raise ConfigError(f"cannot open threads at {describe(target)}: {error}") from error
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    path = Path(target.removeprefix("sqlite:///"))
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        yield saver
