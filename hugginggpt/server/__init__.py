"""The HTTP server: LangServe routes for the graph, the JARVIS routes, files, threads, and their guard."""

from hugginggpt.server.app import create_app, open_app, serve

__all__ = ["create_app", "open_app", "serve"]
