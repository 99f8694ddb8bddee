"""`forge alerts` as a user runs it: real CLI processes against a real hub process and a real agent."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from conftest import ADMIN, LiveHub, http, wait_until
from test_alerts_e2e import Receiver

from forge_desktop.cli import CliError
from forge_desktop.cli.alerts import parse_until


def forge_alerts(hub: LiveHub, *args: str, secret: bool = True) -> subprocess.CompletedProcess:
    env = dict(hub.env)
    if not secret:
        env.pop("ADMIN_SECRET", None)
    return subprocess.run([sys.executable, "-m", "forge_desktop.cli", "alerts", "--hub", hub.url, *args],
                          env=env, capture_output=True, text=True, timeout=60, cwd=str(hub.home))


def test_channels_rules_test_mute_and_list(live_hub):
    hub = live_hub()
    rx = Receiver()
    try:
        out = forge_alerts(hub, "channels", "add", "bogus://nope")
        assert out.returncode == 2 and "url" in out.stderr and "Traceback" not in out.stderr
        out = forge_alerts(hub, "channels", "add", f"json://127.0.0.1:{rx.port}/hook", "--name", "hook")
        assert out.returncode == 0, out.stderr
        cid = int(out.stdout.split()[2])
        listed = forge_alerts(hub, "channels")
        assert "hook" in listed.stdout and "json://" in listed.stdout
        out = forge_alerts(hub, "test", str(cid))
        assert out.returncode == 0 and [g["title"] for g in rx.got] == ["Forge test notification"]
        out = forge_alerts(hub, "test", "999")
        assert out.returncode == 2 and "no channel 999" in out.stderr

        rules = forge_alerts(hub, "rules", secret=False)
        assert rules.returncode == 0 and len(rules.stdout.strip().splitlines()) == 5
        assert "offline > 300 " in rules.stdout

        hub.start_agent("box", "--jobs", "never")
        wait_until(lambda: "box" in hub.fleet(), 30, what="box to report")
        out = forge_alerts(hub, "mute", "box", "--until", "yesterday")
        assert out.returncode == 2 and "--until" in out.stderr
        out = forge_alerts(hub, "mute", "ghost", "--until", "2h")
        assert out.returncode == 2 and "ghost" in out.stderr
        before = time.time()
        out = forge_alerts(hub, "mute", "box", "--until", "2h")
        assert out.returncode == 0, out.stderr
        until = hub.read_store(lambda s: s.alerts.maintenance())["box"]
        assert before + 7200 - 5 < until < time.time() + 7200 + 5

        st, _ = http("POST", hub.url + "/api/alert-rules", {"name": "mem", "metric": "memory", "threshold": 0,
                                                             "channels": [cid]}, token=ADMIN)
        wait_until(lambda: len(rx.got) >= 2, 30, what="the FIRING notification")
        out = forge_alerts(hub, "list", "--state", "firing", secret=False)
        assert out.returncode == 0 and "box" in out.stdout and "mem" in out.stdout
        assert forge_alerts(hub, "list", "--node", "nobody").stdout.strip() == "no alerts"
    finally:
        rx.close()


@pytest.mark.parametrize("text, seconds", [("2h", 7200), ("90m", 5400), ("+30s", 30), ("3d", 3 * 86400)])
def test_relative_until(text, seconds):
    assert parse_until(text, 1000.0) == 1000.0 + seconds


def test_until_off_clock_time_and_nonsense():
    assert parse_until("off", 1000.0) is None
    now = time.time()
    at = parse_until("07:30", now)
    assert now < at <= now + 86400 and time.localtime(at)[3:5] == (7, 30)
    for bad in ("soon", "25:00", "2001-01-01T00:00"):
        with pytest.raises(CliError):
            parse_until(bad, now)
