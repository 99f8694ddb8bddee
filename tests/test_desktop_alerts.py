"""Alerts on the desktop (Qt offscreen): the embedded hub's own node fires a rule, and the
alert reaches the status window (no tray offscreen), the tray's native notification when
there is a tray, and the fleet window's card."""
from __future__ import annotations

import pytest

from conftest import ADMIN, http, wait_until
from test_desktop_shell import desktop_home, embedded_shell  # noqa: F401 - fixtures

pytest.importorskip("pytestqt")

RULE = {"name": "memory in use", "metric": "memory", "op": ">", "threshold": 0, "for_s": 0,
        "severity": "critical"}


def add_rule(url: str, **change) -> int:
    for node in change.get("nodes", []):
        wait_until(lambda: node in {n["id"] for n in http("GET", url + "/api/fleet")[1]["nodes"]}, 20,
                   what=f"{node} in the fleet")
    st, body = http("POST", url + "/api/alert-rules", dict(RULE, **change), token=ADMIN)
    assert st == 201, body
    return body["id"]


def test_an_alert_reaches_the_status_window_then_its_resolution(embedded_shell, qtbot, artifacts):
    shell = embedded_shell
    url, node = shell.app.hub.url, shell.app.node_id
    assert shell.tray is None and shell.status_window is not None
    wait_until(lambda: shell.alert_watch is not None, 10, what="the alert stream to be followed")
    rule = add_rule(url, nodes=[node])
    win = shell.status_window
    qtbot.waitUntil(lambda: f"FIRING: memory in use on {node}" in win.alert.text(), timeout=20000)
    assert win.alert.isVisible()
    assert [m[1] for m in shell.alert_watch.messages] == [f"FIRING: memory in use on {node}"]
    win.grab().save(str(artifacts / "desktop_status_window_alert.png"))

    st, _ = http("PUT", f"{url}/api/alert-rules/{rule}", dict(RULE, nodes=[node], threshold=100), token=ADMIN)
    assert st == 200
    qtbot.waitUntil(lambda: "RESOLVED: memory in use" in win.alert.text(), timeout=30000)
    assert [m[0] for m in shell.alert_watch.messages] == ["firing", "resolved"]


def test_with_a_tray_each_alert_is_a_native_notification(qtbot, desktop_home, monkeypatch):
    from forge_desktop.desktop import DesktopApp, intent_handlers
    from forge_desktop.settings import Settings
    from forge_desktop.ui.shell import Shell
    from forge_desktop.ui.tray import Tray
    shown: list[tuple[str, str]] = []
    # The machine has no tray (offscreen): record what would have popped up.
    monkeypatch.setattr(Tray, "showMessage", lambda self, title, body, *a: shown.append((title, body)))
    app = DesktopApp(Settings.resolve(), embedded_hub=True)
    app.start()
    shell = Shell(app, announce=lambda line: None, quit_app=lambda: None, tray_available=True)
    shell.wire(intent_handlers(app, shell))
    shell.show()
    try:
        wait_until(lambda: shell.alert_watch is not None, 10, what="the alert stream to be followed")
        add_rule(app.hub.url, nodes=[app.node_id])
        qtbot.waitUntil(lambda: bool(shown), timeout=20000)
        title, body = shown[0]
        assert title == f"FIRING: memory in use on {app.node_id}" and "memory is" in body
    finally:
        shell.quit()


def test_the_fleet_window_marks_nodes_with_a_firing_alert(qtbot, live_hub):
    from forge_desktop.ui.fleet_window import FleetWindow
    hub = live_hub()
    hub.start_agent("alpha", "--jobs", "never")
    hub.start_agent("bravo", "--jobs", "never")
    wait_until(lambda: {"alpha", "bravo"} <= set(hub.fleet()), 30, what="both agents")
    win = FleetWindow(hub.url, None)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: {"alpha", "bravo"} <= set(win.cards), timeout=10000)
    assert not win.cards["alpha"].alerting
    add_rule(hub.url, nodes=["alpha"])
    qtbot.waitUntil(lambda: (win.flush(), win.cards["alpha"].alerting)[1], timeout=20000)
    assert not win.cards["bravo"].alerting
    win2 = FleetWindow(hub.url, None)  # opened later: starts from GET /api/alerts
    qtbot.addWidget(win2)
    win2.show()
    qtbot.waitUntil(lambda: "alpha" in win2.cards and win2.cards["alpha"].alerting, timeout=10000)
