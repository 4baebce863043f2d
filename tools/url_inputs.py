"""Input files from http(s) URLs, fetched with limits and never from an address inside the network.

Every hop (the URL and each redirect) is resolved here, each address checked, and the connection made to
the checked address (the host name still goes in the Host header and TLS SNI), so a name that resolves
differently a moment later cannot smuggle a request to loopback, a private network, a link-local address or
a cloud metadata service. The body is read up to a size limit, within a time limit, and must have the
content type of the argument (an image for an image argument, ...).
"""

from __future__ import annotations

import asyncio
import ipaddress
import mimetypes
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from tools.artifacts import InputError, Workspace
from tools.registry import FILE_SUFFIXES, Modality

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlInputError(InputError):
    """An input URL was refused or could not be fetched."""


@dataclass(frozen=True)
class UrlPolicy:
    """Limits of fetching input URLs.

    Attributes:
        max_bytes: the largest body accepted.
        timeout_s: the time limit of the whole fetch, redirects included.
        allow_networks: non-public networks that may be fetched from anyway (an intranet, a test server).
        max_redirects: how many redirects are followed.
    """

    max_bytes: int = 20 * 1024 * 1024
    timeout_s: float = 20.0
    allow_networks: tuple[IPNetwork, ...] = ()
    max_redirects: int = 5

    @classmethod
    def of(cls, max_mb: float, timeout_s: float, allow_networks: Sequence[str] = ()) -> UrlPolicy:
        """Return the policy of a run's settings (``url_max_mb``, ``url_timeout_s``, ``url_allow_networks``).

        Raises:
            UrlInputError: for an allowed network that is not a CIDR block.
        """
        try:
            networks = tuple(ipaddress.ip_network(item, strict=False) for item in allow_networks)
        except ValueError as error:
            raise UrlInputError(f"setting url_allow_networks: {error}") from error
        return cls(int(max_mb * 1024 * 1024), timeout_s, networks)


def is_url(value: str) -> bool:
    """Tell whether an argument is an http(s) URL."""
    return value.strip().lower().startswith(("http://", "https://"))


def refusal(address: IPAddress, policy: UrlPolicy) -> str | None:
    """Return why ``address`` may not be fetched from, or None when it may."""
    if any(address in network for network in policy.allow_networks):
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return refusal(mapped, policy)
    for check, what in (
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address (cloud metadata lives there)"),
        ("is_private", "a private network address"),
        ("is_multicast", "a multicast address"),
        ("is_unspecified", "an unspecified address"),
    ):
        if getattr(address, check):
            return what
    return None if address.is_global else "not a public address"


async def fetch_url(url: str, modality: Modality, workspace: Workspace, stem: str, policy: UrlPolicy) -> Path:
    """Fetch ``url`` into the workspace and return the file's path.

    Args:
        url: an http(s) URL.
        modality: what the argument needs (image, audio or video).
        workspace: where the file goes.
        stem: a readable prefix for its name.
        policy: the limits.

    Returns:
        The path of the complete file.

    Raises:
        UrlInputError: naming the URL and why it was refused or failed.
    """
    try:
        async with asyncio.timeout(policy.timeout_s):
            data, content_type, final_url = await _download(url, modality, policy)
    except TimeoutError:
        raise UrlInputError(f"{url}: no complete answer within {policy.timeout_s:g}s") from None
    except httpx.HTTPError as error:
        raise UrlInputError(f"{url}: cannot fetch ({type(error).__name__}: {error})") from error
    suffix = _suffix(final_url, content_type, modality)
    return await asyncio.to_thread(workspace.write_bytes, stem, suffix, data)


async def _download(url: str, modality: Modality, policy: UrlPolicy) -> tuple[bytes, str, str]:
    async with httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=policy.timeout_s) as client:
        for _ in range(policy.max_redirects + 1):
            request = await _pinned_request(client, url, policy)
            response = await client.send(request, stream=True)
            try:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                return await _body(response, url, modality, policy), _content_type(response), url
            finally:
                await response.aclose()
    raise UrlInputError(f"{url}: more than {policy.max_redirects} redirects")


async def _pinned_request(client: httpx.AsyncClient, url: str, policy: UrlPolicy) -> httpx.Request:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlInputError(f"{url}: only http and https URLs with a host are fetched")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = await _checked_address(url, parts.hostname, port, policy)
    target = httpx.URL(url).copy_with(host=str(address))
    extensions: dict[str, Any] = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return client.build_request("GET", target, headers={"Host": host_header}, extensions=extensions)


async def _checked_address(url: str, host: str, port: int, policy: UrlPolicy) -> IPAddress:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UrlInputError(f"{url}: cannot resolve {host} ({error.strerror})") from error
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:  # every address the name has must be allowed, not just the first
        why = refusal(address, policy)
        if why is not None:
            raise UrlInputError(f"{url}: refused, {host} is {why} ({address})")
    return addresses[0]


async def _body(response: httpx.Response, url: str, modality: Modality, policy: UrlPolicy) -> bytes:
    if response.status_code >= 400:
        raise UrlInputError(f"{url}: the server answered HTTP {response.status_code}")
    content_type = _content_type(response)
    if not _fits(content_type, url, modality):
        raise UrlInputError(f"{url}: the server sent {content_type or 'no content type'}, not {modality}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise UrlInputError(f"{url}: {int(declared)} bytes is over the {policy.max_bytes}-byte limit")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > policy.max_bytes:
            raise UrlInputError(f"{url}: the body is over the {policy.max_bytes}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _fits(content_type: str, url: str, modality: Modality) -> bool:
    if content_type.startswith(f"{modality.value}/"):
        return True
    generic = content_type in ("application/octet-stream", "binary/octet-stream")
    return generic and urlsplit(url).path.lower().endswith(FILE_SUFFIXES[modality])


def _suffix(url: str, content_type: str, modality: Modality) -> str:
    path_suffix = Path(urlsplit(url).path).suffix.lower()
    if path_suffix in FILE_SUFFIXES[modality]:
        return path_suffix
    guessed = mimetypes.guess_extension(content_type) or ""
    return guessed if guessed in FILE_SUFFIXES[modality] else FILE_SUFFIXES[modality][0]
