"""Loading the installer templates shipped as package data.

The templates live in `forge_desktop/startup/templates/` so that an installed
wheel, an editable checkout and a PyInstaller build (which bundles that folder
at the same package path) all find them through importlib.resources.
`installer/templates` in the repository is a link to the same folder.
"""
from __future__ import annotations

from importlib import resources
from string import Template

from forge_desktop.startup.artifacts import InstallError

TEMPLATE_NAMES = (
    "xdg.desktop",
    "launchd-autostart.plist",
    "launchd-service.plist",
    "systemd.service",
    "nssm-install.cmd",
    "nssm-uninstall.cmd",
)


def load(name: str) -> Template:
    if name not in TEMPLATE_NAMES:
        raise InstallError(f"template {name!r}: unknown; known: {', '.join(TEMPLATE_NAMES)}")
    text = resources.files("forge_desktop.startup").joinpath("templates").joinpath(name).read_text("utf-8")
    return Template(text)


def render(name: str, **values: str) -> str:
    """Fill a template; a missing value is an error, never a silent `$name` left in."""
    try:
        return load(name).substitute(values)
    except KeyError as missing:
        raise InstallError(f"template {name!r}: no value for {missing}") from None
