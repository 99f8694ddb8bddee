"""The desktop app's logic: agent, worker and optional embedded hub, driven by tray intents.

`DesktopApp` holds no widgets and imports no Qt: the tray, the status window and the
dialogs (forge_desktop/ui) only emit intents ("pause clicked"), and `run_desktop`
connects those intents to the methods here. Agent callbacks arrive on the agent's
threads; listeners registered with `subscribe` are called there and must hand the
news to their own thread (the UI does so through a Qt signal).
"""
from __future__ import annotations

import dataclasses
import logging
import sys
import threading
import webbrowser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import psutil

from . import __version__, paths
from .agent import Agent, AgentStatus
from .client import HubClient, HubError, HubUnreachable, normalize_url
from .credentials import KeyringUnavailable, load_token, save_token
from .settings import Settings, SettingsError, admin_secret, bearer_token, default_node_id

log = logging.getLogger("forge.desktop")

VIEWER_ACCOUNT_SUFFIX = "|#viewer"
"""Keyring account suffix for a hub's viewer token; '#' never occurs in a node id, so no clash."""

STATES = ("setup", "connected", "offline", "job", "paused")


class DesktopError(Exception):
    """A readable reason an action could not be done (shown in the tray/status window)."""


@dataclass
class DesktopView:
    """Everything the tray icon, its tooltip and the status window show."""
    state: str
    headline: str
    cpu: float | None = None
    mem: float | None = None
    hub_url: str = ""
    node_id: str = ""
    paused: bool = False
    embedded_hub: bool = False
    buffered: int = 0
    running_jobs: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def load_line(self) -> str:
        cpu = "n/a" if self.cpu is None else f"{self.cpu:.0f}%"
        mem = "n/a" if self.mem is None else f"{self.mem:.0f}%"
        return f"CPU {cpu} · memory {mem}"

    @property
    def tooltip(self) -> str:
        return f"Forge — {self.headline}\n{self.load_line}"


def load_viewer_token(hub_url: str) -> str | None:
    return load_token(normalize_url(hub_url), VIEWER_ACCOUNT_SUFFIX[1:])


class DesktopApp:
    """Agent + worker + optional embedded hub for one desktop session.

    `open_url` is injected (the UI passes QDesktopServices.openUrl) so this module
    stays free of Qt and tests can see which URL was opened.
    """

    def __init__(self, settings: Settings, *, hub_url: str | None = None, embedded_hub: bool = False,
                 open_url: Callable[[str], Any] = webbrowser.open, agent_options: dict | None = None):
        self.settings = settings
        self.hub_url_override = normalize_url(hub_url) if hub_url else None
        self.embedded_wanted = embedded_hub or settings.embedded_hub
        self.open_url = open_url
        self.agent_options = agent_options or {}
        self.node_id = settings.node_id or default_node_id()
        self.hub = None
        self.admin_secret: str | None = None
        self.agent: Agent | None = None
        self.worker = None
        self.client: HubClient | None = None
        self.paused = False
        self.error: str | None = None
        self._listeners: list[Callable[[], None]] = []
        self._closed = False
        self._lock = threading.RLock()
        psutil.cpu_percent(None)

    # --- listeners --------------------------------------------------------------------
    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call `listener()` (from any thread) whenever the state may have changed."""
        self._listeners.append(listener)

    def _changed(self, *_: Any) -> None:
        if self._closed:
            return
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("state listener failed")

    # --- where the agent reports -----------------------------------------------------
    @property
    def embedded_running(self) -> bool:
        return bool(self.hub and self.hub.running)

    @property
    def target_url(self) -> str:
        if self.embedded_running:
            return self.hub.url
        return self.hub_url_override or normalize_url(self.settings.hub_url)

    def needs_onboarding(self) -> bool:
        """No embedded hub and no hub/token pair to report to: the first-run dialog is due."""
        if self.embedded_wanted:
            return False
        url = self.target_url
        return not url or not (bearer_token() or load_token(url, self.node_id))

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start the embedded hub (if wanted) and the agent/worker when there is somewhere to report."""
        if self.embedded_wanted:
            self._start_hub()
        if not self.needs_onboarding():
            self.connect()
        self._changed()

    def connect(self) -> None:
        """(Re)start agent and worker against the current target, with the keyring token."""
        with self._lock:
            self._stop_reporting()
            url = self.target_url
            token = self._embedded_token() if self.embedded_running else (
                bearer_token() or load_token(url, self.node_id))
            if not url or not token:
                self.error = "not connected: open Settings… to choose a hub"
                return
            self.client = HubClient(url, token)
            self.agent = Agent(self.client, self.node_id, buffer_path(self.node_id),
                               push_interval_s=self.settings.push_interval_s,
                               sample_interval_s=self.settings.sample_interval_s,
                               buffer_max_bytes=self.settings.buffer_max_bytes,
                               on_push=self._changed, **self.agent_options)
            self.agent.start()
            self.error = None
            self._start_worker()
        self._changed()

    def _start_worker(self) -> None:
        if self.settings.jobs == "never" or not self.client:
            return
        from .worker import Worker, worker_options
        try:
            options = worker_options(dataclasses.replace(self.settings, node_id=self.node_id))
            self.worker = Worker(self.client, self.node_id, options, on_change=self._changed)
            if self.paused:
                self.worker.pause()
            self.worker.start()
        except Exception as e:
            log.exception("job worker failed to start")
            self.worker = None
            self.error = f"jobs are off: the worker failed to start ({e})"

    def _stop_reporting(self) -> None:
        """Worker first (it hands back or finishes its job), then the agent, which pushes what is pending."""
        if self.worker is not None:
            try:
                self.worker.stop()
            except Exception:
                log.exception("stopping the worker failed")
            self.worker = None
        if self.agent is not None:
            self.agent.stop()
            self.agent = None

    def shutdown(self) -> None:
        """Quit: worker, agent (final push or buffer), then the embedded hub. Safe to call twice.

        Listeners hear nothing afterwards: a thread that outlives its stop timeout must not
        reach widgets that are gone.
        """
        self._closed = True
        with self._lock:
            self._stop_reporting()
            self._stop_hub()

    # --- embedded hub ----------------------------------------------------------------
    def _start_hub(self) -> None:
        from hub.config import HubConfig
        from hub.server import EmbeddedHub, ensure_admin_secret
        data_dir = paths.hub_data_dir()
        secret = admin_secret() or ensure_admin_secret(data_dir)[0]
        hub = EmbeddedHub(HubConfig.from_env(data_dir=data_dir, port=self.settings.hub_port, admin_secret=secret))
        try:
            hub.start()
        except RuntimeError as e:
            hub.stop()
            raise DesktopError(f"the hub could not start on port {hub.config.port}: {e}") from None
        self.hub, self.admin_secret = hub, secret

    def _stop_hub(self) -> None:
        if self.hub is not None:
            self.hub.stop()
            self.hub = None

    def _embedded_token(self) -> str:
        """A fresh node token from our own hub (the admin secret is ours); kept in the keyring when one exists."""
        body = HubClient(self.hub.url).post("/api/tokens", {"node_id": self.node_id}, token=self.admin_secret)
        token = body["token"]
        try:
            save_token(self.hub.url, self.node_id, token)
        except KeyringUnavailable as e:
            log.warning("%s", e)
        return token

    def set_embedded_hub(self, on: bool) -> None:
        """The "Run the hub on this machine" toggle: start/stop the hub, save the choice, reconnect."""
        with self._lock:
            if on == self.embedded_running:
                return
            self._stop_reporting()
            self.embedded_wanted = on
            self.settings.embedded_hub = on
            if on:
                try:
                    self._start_hub()
                except DesktopError as e:
                    self.embedded_wanted = self.settings.embedded_hub = False
                    self.error = str(e)
            else:
                self._stop_hub()
            self._save_embedded_choice()
            if not self.needs_onboarding():
                self.connect()
            else:
                self.error = self.error or "not connected: open Settings… to choose a hub"
        self._changed()

    def _save_embedded_choice(self) -> None:
        try:
            saved = Settings.load()
        except SettingsError:
            saved = self.settings
        saved.embedded_hub = self.embedded_wanted
        saved.save()

    def toggle_embedded_hub(self) -> None:
        self.set_embedded_hub(not self.embedded_running)

    # --- jobs -----------------------------------------------------------------------------
    def toggle_pause(self) -> None:
        self.set_paused(not self.paused)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if self.worker is not None:
            (self.worker.pause if paused else self.worker.resume)()
        self._changed()

    def running_jobs(self) -> list[int]:
        try:
            return list(self.worker.running_jobs) if self.worker is not None else []
        except Exception:
            return []

    # --- links ------------------------------------------------------------------------------
    def dashboard_url(self) -> str:
        return (self.target_url or "") + "/" if self.target_url else ""

    def open_dashboard(self) -> None:
        url = self.dashboard_url()
        if not url:
            self.error = "no hub yet: open Settings… to choose one"
            self._changed()
            return
        self.open_url(url)

    def fleet_target(self) -> tuple[str, str | None]:
        """The hub and viewer token the fleet window starts with (the admin secret works for our own hub)."""
        url = self.target_url
        if self.embedded_running:
            return url, self.admin_secret
        return url, load_viewer_token(url) if url else None

    def about_text(self) -> str:
        return (f"Forge {__version__}\nFleet monitor and idle compute for the machines you own.\n"
                f"This machine reports as {self.node_id!r}.\nPython {sys.version.split()[0]}")

    # --- what the tray shows ---------------------------------------------------------------
    def view(self) -> DesktopView:
        status: AgentStatus | None = self.agent.status if self.agent else None
        jobs = self.running_jobs()
        if status is None:
            state, headline = "setup", self.error or "not connected: open Settings… to choose a hub"
        elif self.paused:
            state, headline = "paused", "jobs paused"
        elif jobs:
            state, headline = "job", f"running job {', '.join(f'#{j}' for j in jobs)}"
        elif status.connected:
            state, headline = "connected", f"connected to {self.target_url}"
        elif status.last_push is None and not status.last_error:
            state, headline = "offline", f"connecting to {self.target_url}…"
        else:
            state, headline = "offline", f"offline, buffering {status.buffered} samples"
        if status is not None and not status.connected and status.last_error and state != "setup":
            headline += f" ({status.last_error})"
        if status is not None and status.needs_rejoin:
            state, headline = "offline", f"this machine must rejoin the hub: {status.last_error}"
        if status is not None and status.fault:
            headline += f"; agent fault: {status.fault}"
        return DesktopView(
            state=state, headline=headline, cpu=psutil.cpu_percent(None), mem=psutil.virtual_memory().percent,
            hub_url=self.target_url, node_id=self.node_id, paused=self.paused,
            embedded_hub=self.embedded_running, buffered=status.buffered if status else 0,
            running_jobs=jobs, error=self.error)


def buffer_path(node_id: str) -> Path:
    return paths.data_dir() / f"buffer-{node_id}.ndjson"


def intent_handlers(app: DesktopApp, shell: Any) -> dict[str, Callable[[], None]]:
    """Which logic each tray/status-window intent runs. `shell` opens the windows and dialogs."""
    return {
        "open_dashboard": app.open_dashboard,
        "open_fleet": shell.open_fleet_window,
        "toggle_pause": app.toggle_pause,
        "toggle_hub": app.toggle_embedded_hub,
        "settings": shell.open_settings,
        "about": shell.show_about,
        "quit": shell.quit,
    }


def run_desktop(hub_url: str | None = None, embedded_hub: bool = False) -> int:
    """`forge desktop`: the tray (or status window), first-run dialog, and a clean quit on Quit/SIGTERM."""
    from .ui.shell import Shell, make_qapp
    try:
        settings = Settings.resolve()
    except SettingsError as e:
        print(f"forge: {e}", file=sys.stderr)
        return 2
    qapp = make_qapp()
    app = DesktopApp(settings, hub_url=hub_url, embedded_hub=embedded_hub)
    try:
        app.start()
    except (DesktopError, HubError, HubUnreachable, SettingsError) as e:
        print(f"forge: {e}", file=sys.stderr)
        app.shutdown()
        return 2
    shell = Shell(app, announce=lambda line: print(line, flush=True))
    shell.wire(intent_handlers(app, shell))
    shell.show()
    if app.needs_onboarding():
        shell.open_settings()
    try:
        return qapp.exec()
    finally:
        app.shutdown()
