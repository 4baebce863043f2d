"""`hugginggpt serve`: one FastAPI process with LangServe, the JARVIS routes, files and durable threads."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from graph.builder import compile_graph
from graph.context import Context
from graph.services import Services
from hugginggpt.server import files, guard, jarvis, threads
from hugginggpt.server.hub import Hub
from hugginggpt.server.langserve_routes import add_graph_routes
from hugginggpt.settings import ServeSettings
from hugginggpt.threads import describe, open_checkpointer, threads_target

logger = logging.getLogger(__name__)


def create_app(hub: Hub) -> FastAPI:
    """Return the app serving ``hub``'s graph: every route, the guard, the error handlers."""
    app = FastAPI(
        title="HuggingGPT",
        summary="An LLM plans a request into Hugging Face model tasks, runs them and answers.",
        version="0.1.0",
    )
    app.state.hub = hub
    guard.install(app, hub.settings)
    app.include_router(jarvis.router)
    app.include_router(threads.router)
    app.include_router(files.router)
    add_graph_routes(app, hub)
    from hugginggpt.ui import mount_ui  # Gradio is imported only when the 'ui' extra is installed

    mount_ui(app, hub)

    @app.get("/health", tags=["server"], summary="Liveness")
    async def health() -> dict[str, Any]:
        return {"ok": True, "controller": hub.context.controller}

    return app


@asynccontextmanager
async def open_app(
    context: Context, settings: ServeSettings, services: Services | None = None
) -> AsyncIterator[FastAPI]:
    """Open the threads' store and the services, and yield the app; close both when done.

    Args:
        context: the settings of every run (produced files are named by their /files URL).
        settings: how the server listens and what it accepts.
        services: the services to use (default: built from ``context``, once).
    """
    run_context = dataclasses.replace(context, files_url=files.FILES_URL)
    shared = services or Services(defaults=run_context)
    try:
        await asyncio.to_thread(shared.resources_now, run_context)  # a bad controller or catalog fails now
        async with open_checkpointer(run_context) as checkpointer:
            graph = compile_graph(shared, checkpointer=checkpointer)
            logger.info("threads are kept in %s", describe(threads_target(run_context)))
            yield create_app(Hub(graph=graph, context=run_context, settings=settings, services=shared))
    finally:
        await asyncio.to_thread(shared.close)


def serve(context: Context, settings: ServeSettings) -> int:
    """Serve until interrupted (Ctrl-C or SIGTERM close the services cleanly). Returns the exit status."""
    asyncio.run(_serve(context, settings))
    return 0


async def _serve(context: Context, settings: ServeSettings) -> None:
    import uvicorn

    async with open_app(context, settings) as app:
        config = uvicorn.Config(app, host=settings.host, port=settings.port, lifespan="on", log_level="info")
        await uvicorn.Server(config).serve()
