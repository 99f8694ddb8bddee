"""Shared fixtures: a real hub process on a loopback port, real agent processes, a fresh home.

In-process tests use `aiohttp_client(create_app(config))` with a real SQLite file
(see `hub_config`); tests that need real sockets and processes use `live_hub`.
"""
from __future__ import annotations

import inspect
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import store_backends

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ADMIN = "test-admin-secret-0123456789abcdef"
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"  # instances the tests use (tests/fixtures/*/README.md)
ARTIFACTS = ROOT / "artifacts"

# --- test tiers -------------------------------------------------------------------------
# `e2e`: a test that starts real processes (a hub, agents, a worker's job children, the CLI,
# a build), Chromium or Qt widgets. `pytest -m "not e2e"` is the fast tier (under a minute);
# plain `pytest` (and CI) runs both. Marked here rather than in each file, so a new test is
# put in its tier by what it uses:
E2E_FIXTURES = frozenset({"live_hub", "browser", "page", "qtbot", "qapp"})
# ...and by what its body (or a helper of its module it calls) reaches for directly; TRIGEIRO:
# full solves of the published lot-sizing instances (HiGHS needs 5-50 s on G53 alone).
E2E_NAMES = frozenset({"subprocess", "Popen", "LiveHub", "start_job", "sync_playwright", "TRIGEIRO"})
# ...and by parameter: a store backend that is a server process of its own.
E2E_PARAMS = {"store_url": {"postgresql"}}


def _names_e2e_things(fn, module, depth: int = 2) -> bool:
    """True when `fn`'s code names one of E2E_NAMES, itself or through a function of the same
    module it calls (up to `depth` levels): `co_names` holds the globals and attributes it uses."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    names = set(code.co_names)
    for const in code.co_consts:  # lambdas and nested functions
        if inspect.iscode(const):
            names.update(const.co_names)
    if names & E2E_NAMES:
        return True
    if depth == 0:
        return False
    helpers = (getattr(module, n, None) for n in names)
    return any(inspect.isfunction(h) and h.__module__ == module.__name__ and h is not fn
               and _names_e2e_things(h, module, depth - 1) for h in helpers)


def _is_e2e(item) -> bool:
    uses = set(getattr(item, "fixturenames", ()))  # every fixture it needs, directly or not
    if uses & E2E_FIXTURES:
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    if any(params.get(name) in values for name, values in E2E_PARAMS.items()):
        return True
    fn = getattr(item, "function", None)
    if fn is not None and _names_e2e_things(fn, item.module):
        return True
    info = getattr(item, "_fixtureinfo", None)
    for name in uses:
        for fixturedef in (info.name2fixturedefs.get(name, ()) if info else ()):
            func = inspect.unwrap(fixturedef.func)
            if func.__module__ == item.module.__name__ and _names_e2e_things(func, item.module):
                return True
    return False


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not item.get_closest_marker("e2e") and _is_e2e(item):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method: str, url: str, body=None, token: str | None = None, timeout: float = 10):
    """(status, parsed JSON body) for one request; never raises on HTTP errors."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def wait_until(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class LiveHub:
    """A `forge hub` process plus any number of `forge agent` processes, all on loopback."""

    def __init__(self, home: Path, env_extra: dict | None = None):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin = ADMIN
        self.env = dict(os.environ, ADMIN_SECRET=ADMIN, HOME=str(home), FORGE_DATA_DIR=str(home / "forge"),
                        XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
                        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
                        QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
        self.env.update(env_extra or {})
        self.procs: dict[str, subprocess.Popen] = {}
        self.hub: subprocess.Popen | None = None

    def forge(self, *args: str) -> list[str]:
        # -P: the cwd holds a data folder named "hub", which must not shadow the package
        return [sys.executable, "-P", "-m", "forge_desktop.cli", *args]

    def spawn(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.home / f"{name}.log", "ab")
        p = subprocess.Popen(args, env=env or self.env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True, cwd=str(self.home))
        self.procs[name] = p
        return p

    def start_hub(self, *extra: str, timeout: float = 20) -> None:
        self.hub = self.spawn("hub", self.forge("hub", "--host", "127.0.0.1", "--port", str(self.port),
                                                "--data-dir", str(self.home / "hub"), *extra))
        wait_until(self._hub_up, timeout, what="hub to listen")

    def _hub_up(self) -> bool:
        if self.hub and self.hub.poll() is not None:
            raise AssertionError(f"hub exited early: {self.log('hub')}")
        try:
            return http("GET", self.url + "/api/health", timeout=2)[0] == 200
        except OSError:
            return False

    def stop_hub(self) -> None:
        self.stop("hub")

    def token(self, node_id: str) -> str:
        st, body = http("POST", self.url + "/api/tokens", {"node_id": node_id}, token=ADMIN)
        assert st == 201, body
        return body["token"]

    def start_agent(self, node_id: str, *extra: str, token: str | None = None) -> subprocess.Popen:
        tok = token or self.token(node_id)
        return self.spawn("agent-" + node_id, self.forge("agent", "--hub", self.url, "--node-id", node_id,
                                                          "--token", tok, *extra))

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        p = self.procs.get(name)
        if p and p.poll() is None:
            os.killpg(p.pid, sig)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)

    def job(self, job_id: int) -> dict:
        st, body = http("GET", f"{self.url}/api/jobs/{job_id}")
        assert st == 200, body
        return body

    def wait_job_final(self, job_id: int, timeout: float = 60, worker: str = "agent-w1") -> dict:
        """The job once it succeeded, failed or was cancelled."""
        return wait_until(lambda: (j := self.job(job_id))["status"] in ("succeeded", "failed", "cancelled") and j,
                          timeout, what=f"job {job_id} to end (worker log: {self.log(worker)})")

    def read_store(self, fn):
        """Run `await fn(store)` on the hub's store, opened beside the running hub: tests read
        what it stored through the store's interface, never its files."""
        return store_backends.query_store(self.home / "hub" / "forge.db", fn)

    def fleet(self) -> dict[str, dict]:
        st, body = http("GET", self.url + "/api/fleet")
        return {n["id"]: n for n in body["nodes"]} if st == 200 else {}

    def log(self, name: str) -> str:
        try:
            return (self.home / f"{name}.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def close(self) -> None:
        """Agents and workers first, all at once, then the hub: an agent stopping against a hub
        that is already gone would wait out its final push."""
        others = [name for name in self.procs if name != "hub"]
        for name in others:
            p = self.procs[name]
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for name in others:
            self.stop(name)
        self.stop("hub")


@pytest.fixture
def live_hub(tmp_path):
    """A real hub process on a free loopback port, with short status thresholds off by default."""
    hubs: list[LiveHub] = []

    def make(*extra: str, env: dict | None = None) -> LiveHub:
        h = LiveHub(tmp_path / f"home{len(hubs)}", env)
        h.home.mkdir()
        h.start_hub(*extra)
        hubs.append(h)
        return h

    yield make
    for h in hubs:
        h.close()


@pytest.fixture
def hub_config(tmp_path):
    from hub.config import HubConfig

    def make(**kw):
        kw.setdefault("admin_secret", ADMIN)
        return HubConfig(data_dir=tmp_path / "hubdata", **kw)
    return make


@pytest.fixture(autouse=True)
def _own_qsettings(tmp_path_factory):
    """Qt windows remember choices (fleet view, theme) in QSettings: keep them out of the real home."""
    try:
        from PySide6.QtCore import QSettings
    except ImportError:
        yield
        return
    QSettings.setPath(QSettings.NativeFormat, QSettings.UserScope, str(tmp_path_factory.getbasetemp() / "qsettings"))
    yield


@pytest.fixture
def artifacts() -> Path:
    """Folder for screenshots (ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page (own storage); the test fails if the page throws an uncaught error."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.errors = errors
    yield p
    context.close()
    assert not errors, f"page errors: {errors}"


def shot(page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"dashboard_{name}.png"), full_page=True)


@pytest.fixture(params=store_backends.BACKENDS)
def store_url(request, tmp_path):
    """The URL of an empty store, once per backend (tests/store_backends.py)."""
    with store_backends.fresh_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def store(store_url):
    from hub.store import open_store
    s = await open_store(store_url)
    yield s
    await s.close()


@pytest.fixture(scope="session", autouse=True)
def _throwaway_postgres():
    """Stops the PostgreSQL cluster the store tests may have started (tests/pg_server.py)."""
    yield
    import pg_server
    pg_server.stop_shared()
