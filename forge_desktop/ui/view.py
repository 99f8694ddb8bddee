"""What the Qt side needs of the desktop logic, as protocols, so forge_desktop/ui never
imports forge_desktop.desktop: `desktop.run_desktop` builds a `DesktopApp` (which
satisfies `App`) and hands it to the shell; the dependency points one way only."""
from __future__ import annotations

from typing import Any, Callable, Protocol


class View(Protocol):
    """Everything the tray icon, its tooltip and the status window show (`DesktopView`)."""
    state: str
    headline: str
    node_id: str
    paused: bool
    embedded_hub: bool

    @property
    def load_line(self) -> str: ...

    @property
    def tooltip(self) -> str: ...


class AppSettings(Protocol):
    hub_url: str


class App(Protocol):
    """The desktop logic the shell drives (`DesktopApp`)."""
    settings: AppSettings
    node_id: str
    hub_url_override: str | None
    open_url: Callable[[str], Any]

    @property
    def embedded_running(self) -> bool: ...

    def subscribe(self, listener: Callable[[], None]) -> None: ...

    def view(self) -> View: ...

    def fleet_target(self) -> tuple[str, str | None]: ...

    def set_embedded_hub(self, on: bool) -> None: ...

    def connect(self) -> None: ...

    def about_text(self) -> str: ...

    def shutdown(self) -> None: ...
