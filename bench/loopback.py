"""What every bench needs to run a hub on 127.0.0.1: a free port, an isolated environment, one
JSON request, waiting for the hub and stopping its processes."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def isolated_env(home: Path, admin_secret: str, **extra: str) -> dict[str, str]:
    """Environment for hub and agent processes that keep everything (config, data, keyring)
    inside the throwaway folder `home`."""
    return dict(os.environ, ADMIN_SECRET=admin_secret, HOME=str(home), FORGE_DATA_DIR=str(home / "forge"),
                XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
                PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring", PYTHONUNBUFFERED="1", **extra)


def http(method: str, url: str, body=None, token: str | None = None, timeout: float = 60):
    """(status, parsed JSON body) for one request; an HTTP error's body comes back as text."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def wait_for_hub(url: str, timeout: float) -> bool:
    """Poll /api/health until the hub answers (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http("GET", url + "/api/health", timeout=2)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def stop_process_groups(procs) -> None:
    """SIGTERM each process group started by a bench, SIGKILL what is still there after 20 s."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)


@contextlib.contextmanager
def postgres_database(server_url: str | None) -> Iterator[str | None]:
    """A fresh database on the server for one run (None: the hub uses SQLite)."""
    if not server_url:
        yield None
        return
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    name = f"forge_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    finally:
        with psycopg.connect(server_url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
