"""The first hour, as a new user meets it: `forge up`, a busy port, Ctrl-C, joining twice,
`forge desktop` on a server, installing services. Real CLI processes, a real hub, a real
keyring backend (keyrings.alt's file, chosen by PYTHON_KEYRING_BACKEND).

Only systemd is scripted: a `systemctl` on PATH that fails, since a test machine has no user
session bus to enable a unit on.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ADMIN, LiveHub, free_port, http, wait_until


def machine_env(home: Path) -> dict:
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HOME=str(home), FORGE_DATA_DIR=str(home / "forge"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_DATA_HOME=str(home / "data"), PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
               PYTHONUNBUFFERED="1")
    for key in ("ADMIN_SECRET", "CENTRAL_URL", "NODE_ID", "BEARER_TOKEN"):
        env.pop(key, None)
    return env


def forge(*args: str) -> list[str]:
    return [sys.executable, "-P", "-m", "forge_desktop.cli", *args]


def run(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(forge(*args), env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=env["HOME"])


@pytest.fixture
def busy_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


@pytest.mark.parametrize("command", [["hub", "--host", "127.0.0.1"], ["up"]])
def test_a_busy_port_is_one_line_naming_the_port_and_the_flag(tmp_path, busy_port, command):
    out = run(machine_env(tmp_path / "m"), *command, "--port", str(busy_port))
    assert out.returncode == 2, out
    assert out.stderr.strip().splitlines() == [
        f"forge: port {busy_port} is already in use on 127.0.0.1 (another forge hub?); "
        f"pick another with --port, e.g. --port {busy_port + 1}"], out.stderr
    assert "Task was destroyed" not in out.stdout + out.stderr


def start_up(env: dict, *args: str, command: list[str] | None = None) -> tuple[subprocess.Popen, list[str]]:
    """`forge up` (or `command`, which runs it) in its own session, as a terminal would run it;
    returns it and its output lines so far."""
    p = subprocess.Popen(command or forge("up", *args), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True, cwd=env["HOME"])
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("✓ pushed"):
            return p, lines
    p.kill()
    raise AssertionError("forge up did not push: " + "\n".join(lines))


def test_forge_up_binds_loopback_says_how_to_open_it_and_ctrl_c_stops_within_3_s(tmp_path):
    env = machine_env(tmp_path / "m")
    port = free_port()
    p, lines = start_up(env, "--port", str(port), "--jobs", "never")
    try:
        text = "\n".join(lines)
        assert f"dashboard:    http://127.0.0.1:{port}/" in text
        assert "--host 0.0.0.0" in text and f"tailscale serve {port}" in text
        listening = [c.laddr for c in __import__("psutil").Process(p.pid).net_connections("tcp")
                     if c.status == "LISTEN"]
        assert [a.ip for a in listening] == ["127.0.0.1"], listening
        t0 = time.monotonic()
        os.killpg(p.pid, signal.SIGINT)
        rest, _ = p.communicate(timeout=20)
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert "stopping…" in rest
    assert took < 3.0, f"Ctrl-C took {took:.1f} s"
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest, rest
    assert p.returncode == 0


DEV_UP = """
import subprocess, sys
sys.path.insert(0, sys.argv[1])
import dev
sys.exit(dev.forward_ctrl_c(subprocess.Popen(sys.argv[2:])))
"""


def test_ctrl_c_on_dev_py_up_stops_forge_up_without_a_traceback(tmp_path):
    """`dev.py up` waits on `forge up` the way this runs it (its venv setup aside): Ctrl-C goes to
    the terminal's whole process group, and only `forge up`'s "stopping…" shows."""
    env = machine_env(tmp_path / "m")
    root = str(Path(__file__).resolve().parent.parent)
    p, _ = start_up(env, command=[sys.executable, "-c", DEV_UP, root,
                                  *forge("up", "--port", str(free_port()), "--jobs", "never")])
    try:
        os.killpg(p.pid, signal.SIGINT)
        rest, _ = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert "stopping…" in rest
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest, rest
    assert p.returncode == 0


def test_forge_up_open_to_others_prints_the_exact_join_command_that_works(tmp_path):
    """127.0.0.2 stands in for a LAN address (loopback only in tests)."""
    env = machine_env(tmp_path / "hub-machine")
    port = free_port()
    p, lines = start_up(env, "--host", "127.0.0.2", "--port", str(port), "--jobs", "never")
    try:
        command = next(l.strip() for l in lines if l.strip().startswith("forge join "))
        m = re.fullmatch(rf"forge join (http://127\.0\.0\.2:{port}) (\S+) && forge agent", command)
        assert m, command
        other = machine_env(tmp_path / "other")
        out = run(other, "join", m.group(1), m.group(2), "--node-id", "second")
        assert out.returncode == 0, out.stderr
        assert "joined http://127.0.0.2" in out.stdout and "'second'" in out.stdout
    finally:
        os.killpg(p.pid, signal.SIGINT)
        p.communicate(timeout=20)


def join_code(h: LiveHub) -> str:
    st, body = http("POST", h.url + "/api/tokens", {"join": True}, token=ADMIN)
    assert st == 201, body
    return body["code"]


def test_joining_again_reuses_the_node_and_new_node_makes_another(live_hub, tmp_path):
    h = live_hub()
    env = machine_env(tmp_path / "vm")
    first = run(env, "join", h.url, join_code(h), "--node-id", "vm-2")
    assert first.returncode == 0 and "as 'vm-2'" in first.stdout, first
    code = join_code(h)
    again = run(env, "join", h.url, code)
    assert again.returncode == 2, "nothing was done: the code is not spent"
    assert "already joined" in again.stderr and "'vm-2'" in again.stderr and "--new-node" in again.stderr, again
    st, body = http("GET", h.url + "/api/tokens", token=ADMIN)
    assert [t["node_id"] for t in body["tokens"]] == ["vm-2"], "no ghost node"
    other = run(machine_env(tmp_path / "other"), "join", h.url, code, "--node-id", "other")
    assert other.returncode == 0, "the code the second join did not need is still good"
    new = run(env, "join", h.url, join_code(h), "--new-node")
    assert new.returncode == 0, new.stderr
    st, body = http("GET", h.url + "/api/tokens", token=ADMIN)
    assert len(body["tokens"]) == 3


def test_join_honours_node_id_and_agent_names_the_node_this_machine_joined_as(live_hub, tmp_path):
    h = live_hub()
    env = machine_env(tmp_path / "vm")
    out = run({**env, "NODE_ID": "from-env"}, "join", h.url, join_code(h))
    assert out.returncode == 0 and "as 'from-env'" in out.stdout, out
    agent = run({**env, "NODE_ID": "m2"}, "agent", "--hub", h.url, "--jobs", "never", timeout=30)
    assert agent.returncode == 2
    assert "no token for node 'm2'" in agent.stderr and "this machine joined it as 'from-env'" in agent.stderr, \
        agent.stderr


def test_a_revoked_node_rejoins_under_its_own_name(live_hub, tmp_path):
    h = live_hub()
    env = machine_env(tmp_path / "vm")
    assert run(env, "join", h.url, join_code(h), "--node-id", "box").returncode == 0
    st, _ = http("DELETE", h.url + "/api/tokens/box", token=ADMIN)
    assert st in (200, 204)
    out = run(env, "join", h.url, join_code(h))
    assert out.returncode == 0 and "joined" in out.stdout and "as 'box'" in out.stdout, out


def test_forge_desktop_without_a_display_says_to_use_forge_agent(tmp_path):
    env = machine_env(tmp_path / "server")
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(key, None)
    out = run(env, "desktop", timeout=30)
    assert out.returncode == 2, out
    assert out.stderr.startswith("forge: no display: use `forge agent` on servers"), out.stderr


def failing_systemctl(tmp_path: Path) -> dict:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "systemctl"
    fake.write_text("#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n")
    fake.chmod(0o755)
    env = machine_env(tmp_path / "m")
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="systemd units are installed on Linux only")
def test_install_service_passes_every_flag_and_exits_non_zero_when_systemctl_fails(tmp_path):
    env = failing_systemctl(tmp_path)
    data, downloads = tmp_path / "hubdata", tmp_path / "builds"
    out = run(env, "hub", "--install-service", "--port", "3100", "--data-dir", str(data), "--downloads", str(downloads),
              "--viewer-token", "view-secret-123")
    assert out.returncode == 2, out
    assert "did not start" in out.stderr and "failed (1)" in out.stdout
    unit = (Path(env["XDG_CONFIG_HOME"]) / "systemd" / "user" / "forge-hub.service").read_text()
    exec_start = next(l for l in unit.splitlines() if l.startswith("ExecStart="))
    assert f"--data-dir {data}" in exec_start and f"--downloads {downloads}" in exec_start
    assert "--host 127.0.0.1" not in exec_start and "--port 3100" in exec_start
    assert "view-secret-123" not in exec_start, "the viewer token is not on the command line"
    assert 'Environment="FORGE_VIEWER_TOKEN=view-secret-123"' in unit
    assert "LimitNOFILE=" in unit
    out = run({**env, "CENTRAL_URL": "http://hub.example:3000"}, "agent", "--install-service", "--jobs", "always")
    assert out.returncode == 2, out
    unit = (Path(env["XDG_CONFIG_HOME"]) / "systemd" / "user" / "forge-agent.service").read_text()
    assert f'Environment="FORGE_DATA_DIR={env["FORGE_DATA_DIR"]}"' in unit
    assert 'Environment="CENTRAL_URL=http://hub.example:3000"' in unit
    out = run(env, "agent", "--uninstall-service")
    assert out.returncode == 2 and "stopping the service failed" in out.stderr, out
