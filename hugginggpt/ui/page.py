"""The web page at /ui: a Gradio Blocks chat mounted on the server's FastAPI app, working offline.

Offline: analytics off (no version check, no telemetry), the theme's fonts are the ones Gradio ships
(served from its own assets), no server-side rendering process, no footer links to gradio.app, no PWA or
MCP endpoints. The browser test checks that the page makes no request off this server.
"""

from __future__ import annotations

import hmac
import logging
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from graph.llm import installed_controllers
from hugginggpt.server.files import ACCEPTED, UPLOADS
from hugginggpt.server.hub import Hub
from hugginggpt.ui.actions import INFERENCE_MODES, Actions, controller_choices

logger = logging.getLogger(__name__)

UI_PATH = "/ui"
"""Where the page is served."""
CACHE_CLEANUP = (3600, 86400)
"""Every hour, Gradio deletes the copies of files it served that are over a day old."""
THREADS_KEY = "hugginggpt-threads"
"""The browser storage key of the thread list."""
PLACEHOLDER = "Ask for something; attach images, audio or video. Enter sends, Shift+Enter is a new line."
_CSS = """
#chat .message table { font-size: 0.85em; }
#chat .message td, #chat .message th { padding: 2px 6px; }
#chat .message th { white-space: nowrap; }
#chat img { max-height: 280px !important; width: auto !important; object-fit: contain; }
"""


def build_page(hub: Hub) -> Any:
    """Return the page's Gradio Blocks, its handlers bound to ``hub``."""
    import gradio as gr

    actions = Actions(hub=hub, components=gr)
    controllers = controller_choices(
        hub.context.controller, installed_controllers(), hub.settings.controllers
    )
    with gr.Blocks(
        title="HuggingGPT", analytics_enabled=False, fill_height=True, delete_cache=CACHE_CLEANUP
    ) as page:
        known = gr.BrowserState([], storage_key=THREADS_KEY)
        current = gr.State("")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=240):
                gr.Markdown("## HuggingGPT")
                new = gr.Button("New chat", elem_id="new-chat", variant="secondary")
                threads = gr.Radio(label="Threads", choices=[], elem_id="threads", interactive=True)
                thread_id = gr.Textbox(
                    label="Open a thread by id", elem_id="thread-id", placeholder="e.g. from hugginggpt chat"
                )
                with gr.Accordion("Settings", open=False, elem_id="settings"):
                    controller = gr.Dropdown(
                        choices=controllers,
                        value=hub.context.controller,
                        allow_custom_value=True,
                        label="Controller",
                        elem_id="controller",
                    )
                    mode = gr.Dropdown(
                        choices=list(INFERENCE_MODES),
                        value=hub.context.inference_mode,
                        label="Inference mode",
                        elem_id="mode",
                    )
                    plan = gr.Textbox(
                        label="Given plan (JSON; runs instead of planning)",
                        lines=3,
                        elem_id="plan",
                        placeholder='[{"id": 0, "task": "image-classification", "dep": [-1], "args": {...}}]',
                    )
            with gr.Column(scale=4):
                chat = gr.Chatbot(
                    elem_id="chat",
                    height="78vh",
                    label="Chat",
                    feedback_options=None,
                    buttons=["copy"],
                    placeholder="Plans, model choices, task statuses and results appear here.",
                )
                box = gr.MultimodalTextbox(
                    elem_id="request",
                    placeholder=PLACEHOLDER,
                    file_types=["image", "audio", "video", *ACCEPTED],
                    file_count="multiple",
                    sources=["upload"],
                    stop_btn=True,
                    show_label=False,
                    autofocus=True,
                )
        sending = box.submit(
            actions.send,
            inputs=[box, chat, current, known, controller, mode, plan],
            outputs=[chat, box, current, known, threads],
            show_progress="hidden",
            concurrency_limit=None,  # every user's request runs at once; the graph bounds the models' work
        )
        box.stop(_stopped, inputs=[chat], outputs=[chat, box], cancels=[sending])
        threads.input(actions.open_thread, inputs=[threads], outputs=[chat, current], concurrency_limit=None)
        thread_id.submit(
            actions.open_by_id,
            inputs=[thread_id, known],
            outputs=[chat, current, known, threads],
            concurrency_limit=None,
        )
        new.click(actions.new_chat, outputs=[chat, current, threads, box])
        page.load(actions.restore, inputs=[known], outputs=[threads, chat, current], concurrency_limit=None)
    return page


def _stopped(chat: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Any]:
    import gradio as gr

    note = {"role": "assistant", "content": "**Stopped.** The request was cancelled; send another one."}
    return [*(chat or []), note], gr.update(interactive=True)


def _password_check(api_key: str) -> Any:
    def check(user: str, password: str) -> bool:
        return hmac.compare_digest(password.encode(), api_key.encode())

    return check


def mount_ui(app: FastAPI, hub: Hub, path: str = UI_PATH) -> bool:
    """Mount the page on ``app`` at ``path``; returns False (and logs why) when Gradio is not installed.

    The uvicorn server must run the app's lifespan (``lifespan="on"``): Gradio starts its event queue there.
    With an API key set, the page asks for it as the password (any user name).

    Args:
        app: the server's FastAPI app.
        hub: the server's shared objects.
        path: the URL path of the page.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        import gradio as gr
    except ImportError:
        logger.warning("the web UI needs Gradio: pip install 'hugginggpt[ui]'; %s is not served", path)
        return False
    allowed = [str(Path(hub.context.workspace_dir)), str(Path(hub.context.inputs_dir) / UPLOADS)]
    gr.mount_gradio_app(
        app,
        build_page(hub),
        path=path,
        footer_links=[],
        allowed_paths=allowed,
        max_file_size=hub.settings.max_upload_bytes,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        auth=_password_check(hub.settings.api_key) if hub.settings.api_key else None,
        css=_CSS,
    )
    logger.info("web UI at %s", path)
    return True
