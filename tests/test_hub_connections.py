"""The hub as a real process under connection floods (issue 13 item 1), bounded and on loopback:
a slowloris from 127.0.0.2 must not stop /api/health on 127.0.0.1, half-sent requests are
cut off, one address cannot hold more than its share, and the log does not flood."""
from __future__ import annotations

import resource
import shutil
import socket
import sys
import time

import pytest

from conftest import LiveHub, http, wait_until


def _raise_own_nofile(n: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        if hard != resource.RLIM_INFINITY and hard < n:
            pytest.skip(f"this runner allows {hard} open files; the test needs {n}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))


def _half_request(port: int, source: str = "127.0.0.2") -> socket.socket:
    s = socket.socket()
    s.settimeout(3)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    return s


def _closed_by_peer(s: socket.socket, within: float) -> bool:
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


@pytest.fixture
def hub_1024(tmp_path):
    """A hub started as systemd would start it: soft limit of 1,024 open files."""
    if not sys.platform.startswith("linux") or not shutil.which("prlimit"):
        pytest.skip("needs Linux (127.0.0.2 is loopback there) and util-linux's prlimit")
    hub = LiveHub(tmp_path, {"FORGE_HUB_HEADER_TIMEOUT_S": "3"})
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    hard_s = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    hub.hub = hub.spawn("hub", ["prlimit", f"--nofile=1024:{hard_s}", *hub.forge(
        "hub", "--host", "127.0.0.1", "--port", str(hub.port), "--data-dir", str(tmp_path / "hub"))])
    wait_until(hub._hub_up, 20, what="hub to listen")
    yield hub
    hub.close()


def test_slowloris_from_one_address_leaves_health_answering_and_the_log_quiet(hub_1024):
    _raise_own_nofile(1400)
    idle = []
    try:
        for _ in range(1100):
            try:
                idle.append(_half_request(hub_1024.port))
            except OSError:
                break  # the hub cut this address off: that is the point
        log_before = (hub_1024.home / "hub.log").stat().st_size
        failures = 0
        for _ in range(5):
            try:
                failures += http("GET", hub_1024.url + "/api/health", timeout=3)[0] != 200
            except OSError:
                failures += 1
            time.sleep(1)
        grown = (hub_1024.home / "hub.log").stat().st_size - log_before
    finally:
        for s in idle:
            s.close()
    assert failures == 0, f"/api/health failed {failures} of 5 times with {len(idle)} idle sockets from 127.0.0.2"
    assert grown < 100_000, f"the hub logged {grown} bytes in 5 s of slowloris"
    assert hub_1024.hub.poll() is None


def test_a_half_sent_request_is_cut_off_after_the_header_timeout(hub_1024):
    s = _half_request(hub_1024.port, "127.0.0.1")
    t0 = time.monotonic()
    try:
        assert _closed_by_peer(s, 8), "the hub kept a half-sent request open for 8 s"
        assert 2 < time.monotonic() - t0 < 8
    finally:
        s.close()
    assert http("GET", hub_1024.url + "/api/health")[0] == 200


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="127.0.0.2 is loopback on Linux only")
def test_one_address_holds_at_most_its_connection_share(tmp_path):
    hub = LiveHub(tmp_path, {"FORGE_HUB_MAX_CONNECTIONS_PER_ADDRESS": "20"})
    hub.start_hub()
    held = []
    try:
        held = [_half_request(hub.port) for _ in range(20)]
        extra = _half_request(hub.port)
        assert _closed_by_peer(extra, 3), "a 21st connection from 127.0.0.2 was kept open"
        extra.close()
        assert not _closed_by_peer(held[0], 0.5), "the first 20 connections were dropped too"
        assert http("GET", hub.url + "/api/health")[0] == 200
        text = (tmp_path / "hub.log").read_text()
        assert text.count("refusing connections") == 1 and "127.0.0.2" in text
    finally:
        for s in held:
            s.close()
        hub.close()


def test_systemd_units_raise_the_open_file_limit(tmp_path):
    from forge_desktop.startup import service
    for kind in ("hub", "agent"):
        [f] = service.service_files("linux", kind, ["/opt/forge/forge"], [], tmp_path)
        limits = [l for l in f.content.splitlines() if l.startswith("LimitNOFILE=")]
        assert limits and int(limits[0].split("=", 1)[1]) >= 8192, f.content


def test_accept_out_of_descriptors_is_logged_once_a_minute(caplog):
    """asyncio reports a failing accept() every second while descriptors are exhausted; the
    hub's loop handler lets one report a minute through (57 MB of log in 10 s before)."""
    import asyncio
    import errno
    import logging

    from hub.connections import quiet_accept_errors

    loop = asyncio.new_event_loop()
    try:
        quiet_accept_errors(loop)
        with caplog.at_level(logging.ERROR):
            for _ in range(500):
                loop.call_exception_handler({"message": "socket.accept() out of system resource",
                                             "exception": OSError(errno.EMFILE, "Too many open files")})
            loop.call_exception_handler({"message": "something else broke"})
    finally:
        loop.close()
    texts = [r.getMessage() for r in caplog.records]
    assert sum("out of file descriptors" in t for t in texts) == 1
    assert sum("something else broke" in t for t in texts) == 1



def test_sigterm_ends_held_streams_and_claims_and_the_hub_stops_at_once(live_hub):
    """Open event streams and a long-polled claim must not hold a stopping hub for the
    runner's 5 s shutdown timeout: the streams end cleanly and the claim comes back empty."""
    import signal
    import threading
    import urllib.request
    hub = live_hub(env={"FORGE_HUB_ALLOW_TEST_JOBS": "1"})
    token = hub.token("w")
    ended: dict[str, object] = {}

    def stream(path: str) -> None:
        with urllib.request.urlopen(hub.url + path, timeout=30) as r:
            r.read()
        ended[path] = True

    def claim() -> None:
        ended["claim"] = http("POST", hub.url + "/api/jobs/claim", {"types": ["sleep"], "wait_s": 30},
                              token=token, timeout=40)

    threads = [threading.Thread(target=f, args=a, daemon=True) for f, a in
               ((stream, ("/api/fleet/events",)), (stream, ("/api/alerts/events",)), (claim, ()))]
    for t in threads:
        t.start()
    time.sleep(1.0)
    began = time.monotonic()
    hub.procs["hub"].send_signal(signal.SIGTERM)
    hub.procs["hub"].wait(20)
    stopped_in = time.monotonic() - began
    for t in threads:
        t.join(5)
    assert stopped_in < 4.0, f"the hub took {stopped_in:.1f} s to stop"
    assert ended.get("/api/fleet/events") and ended.get("/api/alerts/events")
    assert ended.get("claim") == (200, {"job": None, "lease_s": ended["claim"][1]["lease_s"]}), ended.get("claim")
