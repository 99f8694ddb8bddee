"""launchd: a LaunchAgent (or a LaunchDaemon with UserName) bootstrapped with launchctl."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

from forge_desktop.startup import quoting, templates
from forge_desktop.startup.artifacts import GeneratedFile

from .spec import ServiceSpec

SYSTEM_NEEDS_USER = True
RUNS_COMMANDS = True
FILES_UNDER_HOME_ONLY = False


def paths(kind: str, scope: str, home: Path, root: Path, config_home: Path | None,
          appdata: Path | None) -> list[Path]:
    folder = home / "Library" / "LaunchAgents" if scope == "user" else root / "Library" / "LaunchDaemons"
    return [folder / f"dev.forge.{kind}.plist"]


def files(spec: ServiceSpec, targets: list[Path], home: Path) -> list[GeneratedFile]:
    extra = ""
    if spec.scope == "system":
        extra += f"\t<key>UserName</key>\n\t<string>{escape(spec.user or '')}</string>\n"
    if spec.env:
        extra += "\t<key>EnvironmentVariables</key>\n\t<dict>\n"
        for key, value in spec.env.items():
            extra += f"\t\t<key>{escape(key)}</key>\n\t\t<string>{escape(value)}</string>\n"
        extra += "\t</dict>\n"
    logs = home / "Library" / "Logs" if spec.scope == "user" else Path("/Library/Logs")
    plist = templates.render("launchd-service.plist", label=spec.label,
                             program_arguments=quoting.plist_strings(spec.argv), extra=extra,
                             log_path=escape(str(logs / f"{spec.name}.log")))
    return [GeneratedFile(targets[0], plist)]


def _domain(scope: str) -> str:
    return "gui/$UID" if scope == "user" else "system"


def activation(kind: str, scope: str, files: Sequence[GeneratedFile]) -> list[list[str]]:
    return [["launchctl", "bootstrap", _domain(scope), str(files[0].path)]]


def deactivation(kind: str, scope: str, targets: Sequence[Path]) -> list[list[str]]:
    return [["launchctl", "bootout", f"{_domain(scope)}/dev.forge.{kind}"]]


def after_removal(kind: str, scope: str) -> list[list[str]]:
    return []


def install_notes(kind: str, scope: str, files: Sequence[GeneratedFile]) -> list[str]:
    return []


def uninstall_notes(kind: str) -> list[str]:
    return []
