"""The first-run dialog checks the hub and the token (or join code) before saving anything.

Each refusal must say exactly what is wrong and leave no settings file and no keyring
entry behind; an accepted token lands in a real (file) keyring backend and the app
starts pushing to the hub.
"""
from __future__ import annotations

import http.server
import threading
import time

import pytest

from conftest import ADMIN, free_port, http as hub_http, wait_until

pytest.importorskip("pytestqt")

NODE = "desk-1"


@pytest.fixture
def desktop_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    for name, value in {"HOME": home, "XDG_CONFIG_HOME": home / "config", "XDG_DATA_HOME": home / "data",
                        "FORGE_DATA_DIR": home / "forge"}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    for name in ("ADMIN_SECRET", "BEARER_TOKEN", "CENTRAL_URL", "NODE_ID"):
        monkeypatch.delenv(name, raising=False)
    import keyring.core
    keyring.core.init_backend()
    return home


@pytest.fixture
def not_forge():
    """A plain web server on loopback that is not a Forge hub."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _dialog(qtbot, url: str, secret: str, join_code: bool = False):
    from forge_desktop.ui.onboarding_dialog import OnboardingDialog
    dialog = OnboardingDialog("", NODE)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.url.setText(url)
    (dialog.by_code if join_code else dialog.by_token).setChecked(True)
    dialog.secret.setText(secret)
    return dialog


def _submit(qtbot, dialog) -> str:
    with qtbot.waitSignal(dialog.check_finished, timeout=20000):
        dialog.check_button.click()
    return dialog.message.text()


def _nothing_saved(url: str) -> None:
    from forge_desktop.client import normalize_url
    from forge_desktop.credentials import load_token
    from forge_desktop.settings import Settings
    assert not Settings.file().exists(), "a refused check must not write settings"
    assert load_token(normalize_url(url), NODE) is None, "a refused check must not store a token"


def test_unreachable_hub(qtbot, desktop_home):
    url = f"http://127.0.0.1:{free_port()}"
    dialog = _dialog(qtbot, url, "fgn_whatever")
    message = _submit(qtbot, dialog)
    assert message.startswith("The hub is unreachable: cannot reach " + url)
    assert dialog.isVisible()
    _nothing_saved(url)


def test_not_an_http_url(qtbot, desktop_home):
    dialog = _dialog(qtbot, "ftp://files.example", "fgn_whatever")
    assert _submit(qtbot, dialog) == "'ftp://files.example' is not an http(s) URL"
    _nothing_saved("ftp://files.example")


def test_missing_fields_are_named(qtbot, desktop_home):
    dialog = _dialog(qtbot, "", "")
    dialog.check_button.click()
    assert dialog.message.text().startswith("Hub URL is required")
    dialog.url.setText("http://127.0.0.1:1")
    dialog.check_button.click()
    assert dialog.message.text() == "The node token is required"


def test_a_web_server_that_is_not_forge(qtbot, desktop_home, not_forge, artifacts):
    dialog = _dialog(qtbot, not_forge, "fgn_whatever")
    message = _submit(qtbot, dialog)
    assert message == f"Not a Forge hub: {not_forge} is a web server but not a Forge hub (HTTP 404)"
    _nothing_saved(not_forge)
    dialog.grab().save(str(artifacts / "desktop_onboarding_error.png"))


def test_refused_token(qtbot, desktop_home, live_hub):
    hub = live_hub()
    dialog = _dialog(qtbot, hub.url, "fgn_not-a-real-token")
    message = _submit(qtbot, dialog)
    assert message.startswith(f"The hub refused the token for '{NODE}'")
    _nothing_saved(hub.url)
    assert NODE not in hub.fleet()


@pytest.mark.parametrize("case", ["unknown", "used", "expired"])
def test_join_code_refusals(qtbot, desktop_home, live_hub, case):
    hub = live_hub()
    if case == "unknown":
        code = "ABCD-EFGH"
    else:
        ttl = 0.001 if case == "expired" else 15
        st, body = hub_http("POST", hub.url + "/api/tokens", {"join": True, "ttl_minutes": ttl}, token=ADMIN)
        assert st == 201, body
        code = body["code"]
        if case == "used":
            st, _ = hub_http("POST", hub.url + "/api/join", {"code": code, "node_id": "someone-else"})
            assert st == 201
        else:
            time.sleep(0.2)
    dialog = _dialog(qtbot, hub.url, code, join_code=True)
    message = _submit(qtbot, dialog)
    expected = {"unknown": "not known to the hub", "used": "already used", "expired": "has expired"}[case]
    assert message.startswith("Join code refused: ") and expected in message
    _nothing_saved(hub.url)


def test_good_token_is_kept_in_the_keyring_and_the_app_starts_pushing(qtbot, desktop_home, live_hub):
    import keyring
    from forge_desktop.credentials import SERVICE
    from forge_desktop.desktop import DesktopApp, intent_handlers
    from forge_desktop.settings import Settings
    from forge_desktop.ui.shell import Shell
    hub = live_hub()
    token = hub.token(NODE)
    app = DesktopApp(Settings.load())
    app.start()
    assert app.needs_onboarding() and app.view().state == "setup"
    shell = Shell(app, announce=lambda line: None, quit_app=lambda: None)
    shell.wire(intent_handlers(app, shell))
    shell.show()
    try:
        dialog = shell.open_settings()
        dialog.url.setText(hub.url)
        dialog.node.setText(NODE)
        dialog.secret.setText(token)
        with qtbot.waitSignal(dialog.connected, timeout=20000):
            dialog.check_button.click()

        assert keyring.get_password(SERVICE, f"{hub.url}|{NODE}") == token
        saved = Settings.file().read_text()
        assert token not in saved
        assert Settings.load().hub_url == hub.url and Settings.load().node_id == NODE
        wait_until(lambda: NODE in hub.fleet(), 15, what="the onboarded node in the hub's fleet")
        qtbot.waitUntil(lambda: app.view().state == "connected", timeout=10000)
    finally:
        shell.quit()


def test_the_tray_says_the_machine_must_rejoin_when_the_hub_refuses_its_token(desktop_home, live_hub):
    """A revoked token: after a few refused pushes the tray headline says to rejoin, with the command."""
    from forge_desktop.credentials import save_token
    from forge_desktop.desktop import DesktopApp
    from forge_desktop.settings import Settings
    h = live_hub()
    token = h.token(NODE)
    save_token(h.url, NODE, token)
    st, _ = hub_http("DELETE", h.url + f"/api/tokens/{NODE}", token=ADMIN)
    assert st in (200, 204)
    settings = Settings(hub_url=h.url, node_id=NODE, jobs="never")
    app = DesktopApp(settings)
    app.start()
    try:
        agent = app.agent
        agent.stop()  # drive the pushes by hand, as fast as the test wants
        for _ in range(3):
            agent.backoff.not_before = 0
            agent.push_once()
        view = app.view()
        assert view.state == "offline"
        assert view.headline.startswith("this machine must rejoin the hub"), view.headline
        assert f"forge join {h.url} CODE --node-id {NODE}" in view.headline
    finally:
        app.shutdown()
