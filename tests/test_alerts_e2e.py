"""Alerts end to end: a real hub process, real agents, a real webhook receiver and a real SMTP
server on loopback. Kill an agent: exactly one FIRING; bring it back: exactly one RESOLVED;
restart the hub in between: nothing lost, nothing sent twice."""
from __future__ import annotations

import http.server as httpserver
import json
import signal
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from conftest import ADMIN, free_port, http, wait_until

pytestmark = pytest.mark.slow


class Receiver:
    """A plain HTTP server on loopback recording each JSON notification Apprise posts."""

    def __init__(self) -> None:
        self.got: list[dict] = []
        outer = self

        class H(httpserver.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                outer.got.append(json.loads(self.rfile.read(n)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def titles(self) -> list[str]:
        return [g["title"] for g in self.got]

    def close(self) -> None:
        self.server.shutdown()


class Mailbox:
    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode(errors="replace")))
        return "250 OK"

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def smtp():
    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=free_port())
    ctl.start()
    box.port = ctl.port
    yield box
    ctl.stop()


def post(hub, path: str, body: dict) -> dict:
    st, out = http("POST", hub.url + path, body, token=ADMIN)
    assert st in (200, 201), out
    return out


def test_kill_fires_once_hub_restart_keeps_it_return_resolves_once(live_hub, receiver, smtp):
    hub = live_hub()
    hook = post(hub, "/api/channels", {"name": "hook", "url": f"json://127.0.0.1:{receiver.port}/hook"})
    mail = post(hub, "/api/channels", {
        "name": "ops mail",
        "url": f"mailto://127.0.0.1:{smtp.port}?from=forge@example.com&to=ops@example.com&mode=insecure"})
    post(hub, "/api/alert-rules", {"name": "gone", "metric": "offline", "op": ">", "threshold": 5, "for_s": 0,
                                   "nodes": ["*"], "severity": "critical", "channels": [hook["id"], mail["id"]]})
    tok = hub.token("victim")
    hub.start_agent("w-steady", "--jobs", "never")
    hub.start_agent("victim", "--jobs", "never", token=tok)
    wait_until(lambda: {"victim", "w-steady"} <= set(hub.fleet()), 30, what="both agents to report")
    time.sleep(12)  # two push periods of healthy agents: no alert
    assert receiver.got == []

    hub.stop("agent-victim", signal.SIGKILL)
    wait_until(lambda: receiver.got, 40, what="a FIRING notification")
    assert receiver.titles() == ["FIRING: gone on victim"]
    wait_until(lambda: smtp.messages, 20, what="the FIRING mail")
    rcpt, mail_text = smtp.messages[0]
    assert rcpt == ["ops@example.com"] and "FIRING: gone on victim" in mail_text

    hub.stop_hub()  # the hub restarts while the alert is firing
    hub.start_hub()
    st, body = http("GET", hub.url + "/api/alerts?state=firing")
    assert [(a["node_id"], a["rule_name"]) for a in body["alerts"]] == [("victim", "gone")]
    time.sleep(4)
    assert receiver.titles() == ["FIRING: gone on victim"]

    hub.start_agent("victim", "--jobs", "never", token=tok)
    wait_until(lambda: len(receiver.got) >= 2, 40, what="a RESOLVED notification")
    time.sleep(8)
    assert receiver.titles() == ["FIRING: gone on victim", "RESOLVED: gone on victim"]
    assert len(smtp.messages) == 2
    st, body = http("GET", hub.url + "/api/alerts?node=victim")
    assert [a["state"] for a in body["alerts"]] == ["resolved"]
    st, chans = http("GET", hub.url + "/api/channels", token=ADMIN)
    assert [c["last_error"] for c in chans["channels"]] == [None, None]
    assert "w-steady" not in json.dumps(receiver.got)
