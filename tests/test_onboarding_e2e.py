"""Join codes end to end, as a new user meets them: CLI processes, a real hub, a real keyring backend."""
from __future__ import annotations

import json
import subprocess
import time

from conftest import http, wait_until


def run(h, *args, env=None, timeout=60):
    return subprocess.run(h.forge(*args), env=env or h.env, capture_output=True, text=True, timeout=timeout,
                          cwd=str(h.home))


def new_machine_env(h, name: str) -> dict:
    """A second machine: its own home, config, data folder and keyring file."""
    home = h.home / name
    home.mkdir()
    return dict(h.env, HOME=str(home), FORGE_DATA_DIR=str(home / "forge"), XDG_CONFIG_HOME=str(home / "config"),
                XDG_DATA_HOME=str(home / "data"), CENTRAL_URL="")


def join_code(h, ttl: str = "15") -> str:
    r = run(h, "tokens", "--hub", h.url, "join-code", "--ttl", ttl)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert f"forge join {h.url} {lines[-1]}" in r.stdout
    return lines[-1]


def test_join_code_then_tokenless_agent_shows_up(live_hub):
    h = live_hub()
    code = join_code(h)
    env = new_machine_env(h, "laptop")
    r = run(h, "join", h.url, code, "--node-id", "laptop", env=env)
    assert r.returncode == 0, r.stderr
    assert "joined" in r.stdout and "laptop" in r.stdout
    keyring_file = (h.home / "laptop" / "data" / "python_keyring" / "keyring_pass.cfg")
    assert keyring_file.exists(), "token kept by the keyring backend"
    settings = json.loads((h.home / "laptop" / "forge" / "config" / "settings.json").read_text())
    assert settings["hub_url"] == h.url and settings["node_id"] == "laptop"
    assert "fgn_" not in json.dumps(settings), "no token in the settings file"
    h.spawn("agent-laptop", h.forge("agent", "--jobs", "never"), env=env)
    node = wait_until(lambda: h.fleet().get("laptop"), 15, what="joined node in the fleet")
    assert node["status"] == "online"


def test_reused_expired_and_wrong_codes_are_refused_and_change_nothing(live_hub):
    h = live_hub()
    code = join_code(h)
    assert run(h, "join", h.url, code, "--node-id", "first", env=new_machine_env(h, "m1")).returncode == 0
    tokens_before = http("GET", h.url + "/api/tokens", token=h.admin)[1]["tokens"]

    env2 = new_machine_env(h, "m2")
    r = run(h, "join", h.url, code, "--node-id", "second", env=env2)
    assert r.returncode == 2 and "already used" in r.stderr
    r = run(h, "join", h.url, "ABCDE-FGHJK", "--node-id", "second", env=env2)
    assert r.returncode == 2 and "not known" in r.stderr
    short = join_code(h, ttl="0.01")
    time.sleep(1.0)
    r = run(h, "join", h.url, short, "--node-id", "second", env=env2)
    assert r.returncode == 2 and "expired" in r.stderr

    assert http("GET", h.url + "/api/tokens", token=h.admin)[1]["tokens"] == tokens_before
    assert not (h.home / "m2" / "forge" / "config" / "settings.json").exists()


def test_join_against_wrong_address_or_non_forge_server_is_explained(live_hub, tmp_path):
    import http.server
    import threading
    h = live_hub()
    env = new_machine_env(h, "m3")
    r = run(h, "join", "http://127.0.0.1:9", "ABCDE-FGHJK", env=env)
    assert r.returncode == 2 and "unreachable" in r.stderr
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        r = run(h, "join", f"http://127.0.0.1:{srv.server_port}", "ABCDE-FGHJK", env=env)
    finally:
        srv.shutdown()
    assert r.returncode == 2 and "not a Forge hub" in r.stderr


def test_tokens_cli_create_list_revoke(live_hub):
    h = live_hub()
    r = run(h, "tokens", "--hub", h.url, "create", "srv1")
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1].startswith("fgn_")
    r = run(h, "tokens", "--hub", h.url, "list")
    assert "srv1" in r.stdout and "active" in r.stdout
    assert run(h, "tokens", "--hub", h.url, "revoke", "srv1").returncode == 0
    assert "revoked" in run(h, "tokens", "--hub", h.url, "list").stdout
    r = run(h, "tokens", "--hub", h.url, "--admin-secret", "wrong", "list")
    assert r.returncode == 2 and "admin secret not accepted" in r.stderr
