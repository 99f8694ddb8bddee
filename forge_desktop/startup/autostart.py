"""Start the tray app when the user logs in: one generator per OS, all testable anywhere.

- linux:   an XDG autostart entry, <config>/autostart/forge-desktop.desktop
- macos:   a LaunchAgent, ~/Library/LaunchAgents/dev.forge.desktop.plist
- windows: a value "Forge Desktop" under HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run
           (no .lnk or .cmd needed: the value is the exact command line)
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from forge_desktop.startup import host, quoting, templates
from forge_desktop.startup.artifacts import (
    Artifact,
    GeneratedFile,
    InstallError,
    Registry,
    RegistryValue,
    install,
    remove,
)

__all__ = [
    "autostart_files", "autostart_targets", "application_entry", "install", "uninstall",
    "install_autostart", "uninstall_autostart",
]

DESKTOP_FILE_NAME = "forge-desktop.desktop"
ICON_NAME = "forge-desktop"
LAUNCH_AGENT_LABEL = "dev.forge.desktop"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE_NAME = "Forge Desktop"


def _check_command(exe_cmd: Sequence[str]) -> list[str]:
    if not exe_cmd or not all(isinstance(a, str) and a for a in exe_cmd):
        raise InstallError(f"exe_cmd {list(exe_cmd)!r}: must be a non-empty list of non-empty strings")
    return list(exe_cmd)


def _linux_path(home: Path, config_home: Path | None) -> Path:
    return (config_home or home / ".config") / "autostart" / DESKTOP_FILE_NAME


def _macos_path(home: Path) -> Path:
    return home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def application_entry(exe_cmd: Sequence[str], icon: str = ICON_NAME, autostart: bool = False) -> str:
    """The text of a Desktop Entry starting `exe_cmd` (launcher menu or autostart)."""
    extra = "X-GNOME-Autostart-enabled=true\nX-GNOME-Autostart-Delay=5\n" if autostart else ""
    text = templates.render("xdg.desktop", exec=quoting.desktop_exec(_check_command(exe_cmd)),
                            icon=icon, extra=extra)
    return text.rstrip("\n") + "\n"


def autostart_files(os_name: str, exe_cmd: Sequence[str], home: Path,
                    config_home: Path | None = None) -> list[Artifact]:
    """What starts `exe_cmd` at login on `os_name`, with paths under `home`."""
    argv = _check_command(exe_cmd)
    os_name = host.check_os(os_name)
    if os_name == "linux":
        return [GeneratedFile(_linux_path(home, config_home), application_entry(argv, autostart=True))]
    if os_name == "macos":
        text = templates.render("launchd-autostart.plist", label=LAUNCH_AGENT_LABEL,
                                program_arguments=quoting.plist_strings(argv))
        return [GeneratedFile(_macos_path(home), text)]
    return [RegistryValue(RUN_KEY, RUN_VALUE_NAME, quoting.windows_command_line(argv))]


def autostart_targets(os_name: str, home: Path, config_home: Path | None = None) -> list[Path | RegistryValue]:
    """Everything `autostart_files` can write for `os_name`, which `uninstall` removes."""
    os_name = host.check_os(os_name)
    if os_name == "linux":
        return [_linux_path(home, config_home)]
    if os_name == "macos":
        return [_macos_path(home)]
    return [RegistryValue(RUN_KEY, RUN_VALUE_NAME, "")]


def uninstall(os_name: str, home: Path, config_home: Path | None = None,
              registry: Registry | None = None) -> list[str]:
    return remove(autostart_targets(os_name, home, config_home), stop_at=home, registry=registry)


def install_autostart(exe_cmd: Sequence[str] | None = None, *, os_name: str | None = None,
                      places: host.HostPlaces | None = None, registry: Registry | None = None,
                      out: Callable[[str], None] = print) -> list[str]:
    """`forge desktop --install-autostart`: start the tray app at login on this machine."""
    os_name = os_name or host.current_os()
    places = places or host.HostPlaces.from_env()
    if exe_cmd is None:
        exe_cmd = host.program_command("forge-desktop", via_forge=["desktop"])
    registry = registry if registry is not None else host.registry_for(os_name)
    written = install(autostart_files(os_name, exe_cmd, places.home, places.config_home), registry)
    for line in written:
        out(f"wrote {line}")
    return written


def uninstall_autostart(*, os_name: str | None = None, places: host.HostPlaces | None = None,
                        registry: Registry | None = None, out: Callable[[str], None] = print) -> list[str]:
    """`forge desktop --uninstall-autostart`: remove what `install_autostart` wrote."""
    os_name = os_name or host.current_os()
    places = places or host.HostPlaces.from_env()
    registry = registry if registry is not None else host.registry_for(os_name)
    removed = uninstall(os_name, places.home, places.config_home, registry)
    for line in removed:
        out(f"removed {line}")
    if not removed:
        out("autostart was not installed; nothing removed")
    return removed
