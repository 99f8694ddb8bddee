"""The one place that decides which OS this process runs on, and where its folders are."""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from forge_desktop.startup.artifacts import InstallError

OS_NAMES = ("linux", "windows", "macos")


def check_os(os_name: str) -> str:
    if os_name not in OS_NAMES:
        raise InstallError(f"os_name {os_name!r}: must be one of {', '.join(OS_NAMES)}")
    return os_name


def current_os(platform: str = sys.platform) -> str:
    if platform.startswith("linux"):
        return "linux"
    if platform == "win32":
        return "windows"
    if platform == "darwin":
        return "macos"
    raise InstallError(f"platform {platform!r}: autostart and services support Linux, Windows and macOS")


@dataclass(frozen=True)
class HostPlaces:
    """Folders of the current user, read from the environment once."""

    home: Path
    config_home: Path | None
    appdata: Path | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "HostPlaces":
        xdg = env.get("XDG_CONFIG_HOME")
        appdata = env.get("APPDATA")
        return cls(
            home=Path.home(),
            config_home=Path(xdg) if xdg else None,
            appdata=Path(appdata) if appdata else None,
        )


MACOS_APP_EXECUTABLES = ("/Applications/Forge.app/Contents/MacOS/forge-desktop",
                         "~/Applications/Forge.app/Contents/MacOS/forge-desktop")


def program_command(program: str, via_forge: Sequence[str] = ()) -> list[str]:
    """The command that starts `program` (`forge` or `forge-desktop`) on this machine.

    Looked for in order: this PyInstaller build itself, the other build beside
    it, `program` on PATH, the macOS app bundle; then `forge` plus `via_forge`
    (e.g. `["desktop"]`) stands in for it, and last the current interpreter
    runs the CLI module.
    """
    frozen = Path(sys.executable) if getattr(sys, "frozen", False) else None
    if frozen and frozen.stem == program:
        return [str(frozen)]
    candidates = [frozen.with_name(program + frozen.suffix)] if frozen else []
    found = shutil.which(program)
    if found:
        candidates.append(Path(found).absolute())
    if program == "forge-desktop" and sys.platform == "darwin":
        candidates += [Path(p).expanduser() for p in MACOS_APP_EXECUTABLES]
    for candidate in candidates:
        if candidate.is_file():
            return [str(candidate)]
    on_path = shutil.which("forge")
    forge = Path(on_path).absolute() if on_path and not (frozen and frozen.stem == "forge") else frozen
    if forge:
        return [str(forge), *via_forge]
    return [sys.executable, "-m", "forge_desktop.cli", *via_forge]


def registry_for(os_name: str):
    """The real registry on Windows, None elsewhere (imported lazily: winreg is Windows-only)."""
    if os_name != "windows":
        return None
    from forge_desktop.startup.winregistry import WindowsRegistry

    return WindowsRegistry()
