"""Containers (sample schema 2 ``containers``): Docker and Podman through the engine's Unix socket.

Plain HTTP/1.1 over the socket with the standard library's ``http.client``
(which the agent already loads for its pushes) rather than the ``docker`` SDK
(requests, urllib3, websocket-client: about 6 MiB more RSS and 40 ms more
start-up) or ``aiodocker`` (an asyncio loop in a threaded agent): three GET
routes of the stable Engine API are all this needs, and Podman serves the same
routes on its own socket.

The engine is polled on a thread of its own (``forge-containers``) every
``interval_s`` seconds, each request bounded by ``timeout_s``; the 1 s sampler
only copies the latest answer, so a slow or hung engine never delays a sample.
A sample carries no ``containers`` field while no engine answers, or when its
latest answer is older than three intervals. Where no socket exists the thread
looks again every ``rediscover_s`` seconds (an engine started after the agent).

CPU is in % of one core, as for processes (``docker stats`` shows the same
number): the container's CPU nanoseconds between two polls over the wall time
between them. ``mem_used`` is what ``docker stats`` shows: the cgroup's usage
less its inactive file cache.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

MAX_CONTAINERS = 50


def engine_sockets(environ: dict[str, str] | None = None) -> list[str]:
    """Candidate engine sockets, in order: ``DOCKER_HOST`` (unix://), Docker's, Podman's (root, then rootless)."""
    env = os.environ if environ is None else environ
    out = []
    docker_host = env.get("DOCKER_HOST", "")
    if docker_host.startswith("unix://"):
        out.append(docker_host[len("unix://"):])
    out += ["/var/run/docker.sock", "/run/podman/podman.sock"]
    runtime = env.get("XDG_RUNTIME_DIR") or (f"/run/user/{os.getuid()}" if hasattr(os, "getuid") else "")
    if runtime:
        out += [f"{runtime}/podman/podman.sock", f"{runtime}/docker.sock"]
    return out


class UnixHTTPConnection(http.client.HTTPConnection):
    """``http.client`` over a Unix socket: the Docker/Podman Engine API."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class EngineError(Exception):
    pass


class EngineClient:
    def __init__(self, path: str, timeout_s: float = 2.0) -> None:
        self.path = path
        self.timeout_s = timeout_s

    def get(self, route: str) -> Any:
        conn = UnixHTTPConnection(self.path, self.timeout_s)
        try:
            conn.request("GET", route, headers={"Host": "docker"})
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise EngineError(f"GET {route}: HTTP {response.status}")
        return json.loads(body) if body.strip().startswith((b"{", b"[")) else body.decode(errors="replace")

    def ping(self) -> bool:
        try:
            return self.get("/_ping") is not None
        except (OSError, EngineError, ValueError, http.client.HTTPException):
            return False


def memory_used(stats: dict[str, Any]) -> int | None:
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage")
    if usage is None:
        return None
    detail = memory.get("stats") or {}
    cache = detail.get("inactive_file", detail.get("total_inactive_file", 0)) or 0
    return int(usage - cache) if cache < usage else int(usage)


def _total_cpu_ns(stats: dict[str, Any]) -> int | None:
    return ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")


class Containers:
    """The ``containers`` probe: the poller thread's latest answer."""

    name = "containers"
    path = ("containers",)
    interval_s = 0.0

    def __init__(self, sockets: list[str] | None = None, *, interval_s: float = 5.0, timeout_s: float = 2.0,
                 rediscover_s: float = 60.0) -> None:
        self._sockets = engine_sockets() if sockets is None else sockets
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._rediscover_s = rediscover_s
        self._lock = threading.Lock()
        self._latest: tuple[float, list[dict[str, Any]]] | None = None
        self._cpu: dict[str, tuple[float, int]] = {}
        self._client: EngineClient | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def read(self, now: float) -> list[dict[str, Any]] | None:
        if self._thread is None:
            self.start()
        with self._lock:
            latest = self._latest
        if latest is None or time.monotonic() - latest[0] > 3 * self._interval_s:
            return None
        return latest[1]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="forge-containers", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._timeout_s * 2)

    def _discover(self) -> EngineClient | None:
        for path in self._sockets:
            if Path(path).exists():
                client = EngineClient(path, self._timeout_s)
                if client.ping():
                    log.info("container engine at %s", path)
                    return client
        return None

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if self._client is None:
                self._client = self._discover()
                if self._client is None:
                    self._stop.wait(self._rediscover_s)
                    continue
            try:
                answer = self.poll(self._client)
                failures = 0
            except Exception as exc:  # noqa: BLE001 - an odd answer must not end the poller thread
                failures += 1
                if failures == 1:
                    log.info("container engine at %s stopped answering: %r", self._client.path, exc)
                if failures >= 3:
                    self._client = None
                self._stop.wait(self._interval_s)
                continue
            with self._lock:
                self._latest = (time.monotonic(), answer)
            self._stop.wait(self._interval_s)

    def poll(self, client: EngineClient) -> list[dict[str, Any]]:
        """One round: the container list, then one-shot stats of each running container."""
        listed = client.get("/containers/json?all=1")[:MAX_CONTAINERS]
        out, seen = [], set()
        for c in listed:
            cid = c.get("Id", "")
            names = c.get("Names") or [""]
            state = c.get("State") or ""
            row = {"id": cid[:12], "name": names[0].lstrip("/"), "image": c.get("Image"), "state": state,
                   "cpu_percent": None, "mem_used": None}
            if state == "running" and cid:
                seen.add(cid)
                stats = client.get(f"/containers/{quote(cid)}/stats?stream=false&one-shot=true")
                row["cpu_percent"] = self._cpu_percent(cid, stats)
                row["mem_used"] = memory_used(stats)
            out.append(row)
        self._cpu = {k: v for k, v in self._cpu.items() if k in seen}
        return out

    def _cpu_percent(self, cid: str, stats: dict[str, Any]) -> float | None:
        total = _total_cpu_ns(stats)
        now = time.monotonic()
        previous = self._cpu.get(cid)
        if total is None:
            return None
        self._cpu[cid] = (now, total)
        if previous is not None and now > previous[0] and total >= previous[1]:
            return round((total - previous[1]) / ((now - previous[0]) * 1e9) * 100.0, 1)
        pre_total = _total_cpu_ns({"cpu_stats": stats.get("precpu_stats") or {}})
        system = (stats.get("cpu_stats") or {}).get("system_cpu_usage")
        pre_system = (stats.get("precpu_stats") or {}).get("system_cpu_usage")
        cpus = (stats.get("cpu_stats") or {}).get("online_cpus")
        if pre_total and system and pre_system and cpus and system > pre_system:
            # An engine that fills precpu_stats (no one-shot): docker stats' own formula.
            return round((total - pre_total) / (system - pre_system) * cpus * 100.0, 1)
        return None
