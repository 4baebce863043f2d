"""A private PostgreSQL server for tests (Debian's `postgresql` package), on a free loopback port."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.servers import free_port


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """Start a throw-away PostgreSQL cluster and yield its URL; skip, saying why, where it cannot start."""
    binaries = _binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not found (install Debian's postgresql package)")
    owner = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            owner = pwd.getpwnam("postgres").pw_name
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL as")
    folder = Path(tempfile.mkdtemp(prefix="hugginggpt-postgres-"))  # not under pytest's 0700 folders
    data, sockets, log = folder / "data", folder / "sockets", folder / "server.log"
    sockets.mkdir()
    if owner:
        shutil.chown(folder, owner)
        shutil.chown(sockets, owner)
    port = free_port()
    init = _as_owner([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"], owner)
    done = subprocess.run(init, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.skip(f"initdb failed: {done.stderr.strip()[-300:]}")
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = _as_owner(
        [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], owner
    )
    started = subprocess.run(start, capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        pytest.skip(f"PostgreSQL did not start: {started.stderr.strip()[-300:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        stop = [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run(_as_owner(stop, owner), capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
