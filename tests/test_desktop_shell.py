"""The desktop app with its embedded hub: the no-tray status window's actions, and `forge desktop` itself.

GIVEN a fresh home and an embedded hub on a free loopback port, WHEN a button of the
status window is clicked, THEN the app does what the button says, against the real hub.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import ADMIN, ROOT, free_port, http, wait_until

pytest.importorskip("pytestqt")


@pytest.fixture
def desktop_home(tmp_path, monkeypatch):
    """A throwaway home: settings, data, hub data and a file keyring all under tmp_path."""
    home = tmp_path / "home"
    for name, value in {"HOME": home, "XDG_CONFIG_HOME": home / "config", "XDG_DATA_HOME": home / "data",
                        "FORGE_DATA_DIR": home / "forge"}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("ADMIN_SECRET", ADMIN)
    monkeypatch.setenv("FORGE_HUB_HOST", "127.0.0.1")
    monkeypatch.setenv("FORGE_DESKTOP_HUB_PORT", str(free_port()))
    monkeypatch.delenv("BEARER_TOKEN", raising=False)
    import keyring.core
    keyring.core.init_backend()
    return home


@pytest.fixture
def embedded_shell(qtbot, desktop_home):
    from forge_desktop.desktop import DesktopApp, intent_handlers
    from forge_desktop.settings import Settings
    from forge_desktop.ui.shell import Shell
    app = DesktopApp(Settings.resolve(), embedded_hub=True)
    app.start()
    quits: list[bool] = []
    shell = Shell(app, announce=lambda line: None, quit_app=lambda: quits.append(True))
    shell.wire(intent_handlers(app, shell))
    shell.show()
    shell.quits = quits
    yield shell
    shell.quit()


def _node_in_fleet(url: str, node_id: str) -> dict | None:
    try:
        st, body = http("GET", url + "/api/fleet", timeout=2)
    except OSError:
        return None
    return next((n for n in body["nodes"] if n["id"] == node_id), None) if st == 200 else None


def _forge_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("forge-") and t.is_alive()}


def test_no_tray_shows_the_status_window_with_every_action(embedded_shell, qtbot, artifacts):
    from forge_desktop.ui.actions import ACTIONS
    shell = embedded_shell
    assert shell.tray is None, "offscreen has no system tray"
    win = shell.status_window
    assert win.isVisible()
    assert set(win.buttons) == {key for key, _ in ACTIONS}
    wait_until(lambda: _node_in_fleet(shell.app.hub.url, shell.app.node_id), 10, what="own node in the fleet")
    qtbot.waitUntil(lambda: (shell.refresh(), win.state == "connected")[1], timeout=10000)
    assert "CPU" in win.load.text() and "memory" in win.load.text()
    assert "CPU" in win.toolTip()
    win.grab().save(str(artifacts / "desktop_status_window.png"))


def test_pause_flips_the_worker_and_the_state_icon(embedded_shell, qtbot):
    shell, win = embedded_shell, embedded_shell.status_window
    qtbot.waitUntil(lambda: (shell.refresh(), win.state == "connected")[1], timeout=10000)
    before = win.icon.pixmap().toImage()

    qtbot.mouseClick(win.buttons["toggle_pause"], qtbot_left())
    assert shell.app.paused
    assert win.state == "paused"
    assert win.icon.pixmap().toImage() != before
    assert win.buttons["toggle_pause"].text() == "Resume jobs"
    if shell.app.worker is not None:
        assert shell.app.worker.paused

    qtbot.mouseClick(win.buttons["toggle_pause"], qtbot_left())
    assert not shell.app.paused and win.state != "paused"
    assert win.buttons["toggle_pause"].text() == "Pause jobs"
    if shell.app.worker is not None:
        assert not shell.app.worker.paused


def test_pause_stops_claiming_and_resume_picks_the_job_up(qtbot, desktop_home, live_hub, monkeypatch):
    """GIVEN the app reporting to a hub with jobs 'always', WHEN paused, THEN a queued job stays pending."""
    from forge_desktop.desktop import DesktopApp, intent_handlers
    from forge_desktop.settings import Settings
    from forge_desktop.ui.shell import Shell
    pytest.importorskip("forge_desktop.worker")
    hub = live_hub("--allow-test-jobs")
    monkeypatch.setenv("BEARER_TOKEN", hub.token("desk"))
    monkeypatch.setenv("FORGE_WORKER_TYPES", "sleep")
    app = DesktopApp(Settings.resolve(node_id="desk", jobs="always"), hub_url=hub.url)
    app.start()
    shell = Shell(app, announce=lambda line: None, quit_app=lambda: None)
    shell.wire(intent_handlers(app, shell))
    shell.show()
    win = shell.status_window
    try:
        assert app.worker is not None
        qtbot.mouseClick(win.buttons["toggle_pause"], qtbot_left())
        assert app.worker.paused and win.state == "paused"
        st, body = http("POST", hub.url + "/api/jobs", {"type": "sleep", "payload": {"seconds": 3}}, token=ADMIN)
        assert st == 201, body
        job = body["id"]
        qtbot.wait(3000)
        assert http("GET", f"{hub.url}/api/jobs/{job}")[1]["status"] == "pending"

        qtbot.mouseClick(win.buttons["toggle_pause"], qtbot_left())
        assert not app.worker.paused
        qtbot.waitUntil(lambda: win.state == "job", timeout=15000)
        assert http("GET", f"{hub.url}/api/jobs/{job}")[1]["status"] == "running"
        wait_until(lambda: http("GET", f"{hub.url}/api/jobs/{job}")[1]["status"] == "succeeded", 20,
                   what="the job to finish")
    finally:
        shell.quit()


def test_open_dashboard_and_fleet_window(embedded_shell, qtbot):
    shell, win = embedded_shell, embedded_shell.status_window
    opened: list[str] = []
    shell.app.open_url = opened.append
    qtbot.mouseClick(win.buttons["open_dashboard"], qtbot_left())
    assert opened == [shell.app.hub.url + "/"]

    wait_until(lambda: _node_in_fleet(shell.app.hub.url, shell.app.node_id), 10, what="own node in the fleet")
    qtbot.mouseClick(win.buttons["open_fleet"], qtbot_left())
    assert len(shell.fleet_windows) == 1
    fleet = shell.fleet_windows[0]
    assert fleet.isVisible()
    qtbot.waitUntil(lambda: shell.app.node_id in fleet.cards, timeout=10000)


def test_run_the_hub_toggle_stops_starts_and_saves(embedded_shell, qtbot):
    from forge_desktop.settings import Settings
    shell, win = embedded_shell, embedded_shell.status_window
    url = shell.app.hub.url
    box = win.buttons["toggle_hub"]
    assert box.isChecked()

    box.click()
    assert not shell.app.embedded_running and not box.isChecked()
    assert Settings.load().embedded_hub is False
    with pytest.raises(OSError):
        http("GET", url + "/api/health", timeout=2)
    assert win.state == "setup", "no other hub configured: the app asks for one"

    box.click()
    assert shell.app.embedded_running and box.isChecked()
    assert Settings.load().embedded_hub is True
    wait_until(lambda: _node_in_fleet(url, shell.app.node_id), 10, what="node back in the restarted hub")


def test_quit_stops_agent_and_hub_and_the_final_samples_arrive(embedded_shell, qtbot, desktop_home):
    from hub.config import HubConfig
    from hub.server import EmbeddedHub
    from forge_desktop import paths
    shell, win, app = embedded_shell, embedded_shell.status_window, embedded_shell.app
    url, node_id = app.hub.url, app.node_id
    qtbot.waitUntil(lambda: app.agent.status.last_push is not None, timeout=10000)
    # Quit mid-interval, so the newest samples exist only in the agent's queue.
    # (2.5 s: the sample taken about 2 s after the push has had time to be read and queued)
    qtbot.waitUntil(lambda: 2.5 <= time.time() - app.agent.status.last_push < 4.0, timeout=10000)
    last_regular_push = app.agent.status.last_push

    qtbot.mouseClick(win.buttons["quit"], qtbot_left())
    assert shell.quits == [True]
    assert not _forge_threads() & {"forge-sampler", "forge-pusher", "forge-hub"}
    with pytest.raises(OSError):
        http("GET", url + "/api/health", timeout=2)

    again = EmbeddedHub(HubConfig(data_dir=paths.hub_data_dir(), host="127.0.0.1", port=free_port(),
                                  admin_secret=ADMIN))
    again.start()
    try:
        st, body = http("GET", f"{again.url}/api/nodes/{node_id}/snapshot?points=20")
    finally:
        again.stop()
    assert st == 200
    newest = max(s["ts"] for s in body["samples"])
    assert newest > last_regular_push + 1.0, "samples taken after the last regular push reached the hub on quit"


def test_forge_desktop_embedded_hub_alone_brings_its_node_into_its_fleet(tmp_path):
    port = free_port()
    home = tmp_path / "home"
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               QT_QPA_PLATFORM="offscreen", PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
               FORGE_DESKTOP_HUB_PORT=str(port), FORGE_HUB_HOST="127.0.0.1", PYTHONUNBUFFERED="1")
    for name in ("FORGE_DATA_DIR", "ADMIN_SECRET", "BEARER_TOKEN", "CENTRAL_URL"):
        env.pop(name, None)
    log = tmp_path / "desktop.log"
    with open(log, "wb") as out:
        p = subprocess.Popen([sys.executable, "-m", "forge_desktop.cli", "desktop", "--embedded-hub"], env=env,
                             stdout=out, stderr=subprocess.STDOUT, cwd=str(ROOT), start_new_session=True)
    try:
        t0 = time.monotonic()
        wait_until(lambda: p.poll() is None and _any_node(f"http://127.0.0.1:{port}"), 10,
                   what=f"a node in the embedded hub's fleet ({log.read_text(errors='replace')[-500:]})")
        assert time.monotonic() - t0 < 10
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
        code = p.wait(20)
    text = log.read_text(errors="replace")
    assert code == 0, text
    assert "no system tray" in text
    settings_file = home / "config" / "forge" / "settings.json"
    assert not settings_file.exists() or "token" not in json.loads(settings_file.read_text())


def _any_node(url: str) -> bool:
    try:
        st, body = http("GET", url + "/api/fleet", timeout=2)
    except OSError:
        return False
    return st == 200 and bool(body["nodes"])


def qtbot_left():
    from PySide6.QtCore import Qt
    return Qt.LeftButton
