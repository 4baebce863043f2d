"""Input URLs: fetched with limits, never from inside the network (checked on every redirect hop)."""

from __future__ import annotations

import io
import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from tests.fakes import make_harness
from tools.artifacts import Workspace
from tools.registry import Modality
from tools.url_inputs import UrlInputError, UrlPolicy, fetch_url, refusal


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 4), "purple").save(buffer, format="PNG")
    return buffer.getvalue()


ROUTES = {
    "/cat.png": (200, "image/png", png()),
    "/cat": (200, "image/png", png()),
    "/octet.png": (200, "application/octet-stream", png()),
    "/octet": (200, "application/octet-stream", png()),
    "/page.png": (200, "text/html", b"<html>not an image</html>"),
    "/big.png": (200, "image/png", b"x" * 5000),
    "/missing.png": (404, "text/plain", b"no"),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/redirect-to?"):
            self.send_response(302)
            self.send_header("Location", self.path.split("?", 1)[1])
            self.end_headers()
            return
        if self.path == "/slow.png":
            time.sleep(1.5)
        if self.path == "/endless.png":  # no Content-Length: the limit must hold while reading
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"y" * 1000)
            return
        status, kind, body = ROUTES.get(self.path, (200, "image/png", png()))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


LOCAL = UrlPolicy(max_bytes=2000, timeout_s=1.0, allow_networks=(ipaddress.ip_network("127.0.0.1/32"),))


async def fetch(url: str, tmp_path, policy: UrlPolicy = LOCAL):
    return await fetch_url(
        url, Modality.IMAGE, Workspace(tmp_path / "ws", base=tmp_path), "task0-image", policy
    )


async def test_an_allowed_image_url_is_saved_whole(tmp_path, site):
    path = await fetch(f"{site}/cat.png", tmp_path)
    assert path.parent == tmp_path / "ws" and path.suffix == ".png"
    with Image.open(path) as image:
        assert image.size == (6, 4)
    assert (await fetch(f"{site}/cat", tmp_path)).suffix == ".png"  # suffix from the content type
    assert (await fetch(f"{site}/octet.png", tmp_path)).suffix == ".png"  # generic type, image suffix


@pytest.mark.parametrize(
    ("route", "says"),
    [
        ("/page.png", "sent text/html, not image"),
        ("/octet", "application/octet-stream, not image"),
        ("/big.png", "over the 2000-byte limit"),
        ("/endless.png", "over the 2000-byte limit"),
        ("/missing.png", "HTTP 404"),
        ("/slow.png", "within 1s"),
    ],
)
async def test_bad_answers_are_refused_with_the_reason(tmp_path, site, route, says):
    with pytest.raises(UrlInputError, match=says):
        await fetch(site + route, tmp_path)
    written = list((tmp_path / "ws").glob("*")) if (tmp_path / "ws").exists() else []
    assert written == []  # nothing half-written


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:{port}/cat.png", "loopback"),
        ("http://localhost:{port}/cat.png", "loopback"),
        ("http://[::1]:{port}/cat.png", "loopback"),
        ("http://169.254.169.254/latest/meta-data.png", "link-local"),
        ("http://10.1.2.3/cat.png", "private"),
        ("http://192.168.0.10/cat.png", "private"),
        ("http://100.100.100.200/cat.png", "not a public address"),
        ("http://[::ffff:127.0.0.1]/cat.png", "loopback"),
        ("ftp://example.com/cat.png", "only http and https"),
        ("http:///cat.png", "only http and https"),
    ],
)
async def test_addresses_inside_the_network_are_refused_by_default(tmp_path, site, url, says):
    with pytest.raises(UrlInputError, match=says):
        await fetch(url.format(port=site.rsplit(":", 1)[1]), tmp_path, UrlPolicy())


async def test_redirects_are_checked_at_every_hop(tmp_path, site):
    assert (await fetch(f"{site}/redirect-to?/cat.png", tmp_path)).is_file()
    with pytest.raises(UrlInputError, match="link-local"):
        await fetch(f"{site}/redirect-to?http://169.254.169.254/latest.png", tmp_path)
    with pytest.raises(UrlInputError, match="loopback"):
        await fetch(f"{site}/redirect-to?http://[::1]:1/x.png", tmp_path)


def test_public_addresses_pass():
    assert refusal(ipaddress.ip_address("93.184.216.34"), UrlPolicy()) is None
    assert refusal(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"), UrlPolicy()) is None


async def test_a_plan_can_name_an_input_by_url(tmp_path, site):
    plan = [{"id": 0, "task": "image-classification", "dep": [-1], "args": {"image": f"{site}/cat.png"}}]
    allowed = make_harness(tmp_path, ["ok"], url_allow_networks=["127.0.0.1/32"])
    result = (await allowed.run("what is this?", plan=plan))["results"][0]
    assert result["status"] == "done" and result["args"]["image"].startswith(str(tmp_path / "workspace"))
    refused = (await make_harness(tmp_path, ["ok"]).run("what is this?", plan=plan))["results"][0]
    assert result["status"] == "done" and refused["status"] == "failed" and "loopback" in refused["error"]
