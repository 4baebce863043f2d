"""A test-only `hugginggpt serve` with the web UI mounted at /ui (until the server mounts it itself).

Run as ``python -m tests.integration.ui_server --config SETTINGS``: the same app as `hugginggpt serve`
(`open_app`), plus `mount_ui`, on a free port, with the lifespan on so that Gradio's queue starts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from graph.context import load_context
from hugginggpt.server import open_app
from hugginggpt.settings import load_serve_settings
from hugginggpt.ui import mount_ui


async def serve_with_ui(config: str, port: int) -> None:
    """Serve the app of ``config`` with the UI until killed."""
    import uvicorn

    context = load_context(config)
    settings = load_serve_settings(config, port=port).checked()
    async with open_app(context, settings) as app:
        if not any(getattr(route, "path", "") == "/ui" for route in app.routes):
            mount_ui(app, app.state.hub)
        server = uvicorn.Config(app, host=settings.host, port=settings.port, lifespan="on", log_level="info")
        await uvicorn.Server(server).serve()


def main() -> None:
    """Parse ``--config`` and ``--port`` and serve."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(serve_with_ui(args.config, args.port))


if __name__ == "__main__":
    main()
