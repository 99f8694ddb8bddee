"""systemd: a user unit (or a system unit with User=) enabled with systemctl."""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Sequence

from forge_desktop.startup import quoting, templates
from forge_desktop.startup.artifacts import GeneratedFile

from .spec import DESCRIPTIONS, ServiceSpec

SYSTEM_NEEDS_USER = True
RUNS_COMMANDS = True
FILES_UNDER_HOME_ONLY = False


def paths(kind: str, scope: str, home: Path, root: Path, config_home: Path | None,
          appdata: Path | None) -> list[Path]:
    folder = ((config_home or home / ".config") / "systemd" / "user" if scope == "user"
              else root / "etc" / "systemd" / "system")
    return [folder / f"forge-{kind}.service"]


def files(spec: ServiceSpec, targets: list[Path], home: Path) -> list[GeneratedFile]:
    extra = ""
    if spec.scope == "system":
        extra += f"User={spec.user}\n"
    for key, value in spec.env.items():
        extra += f"Environment={quoting.systemd_environment(key, value)}\n"
    if spec.kind == "agent" and "agent" in spec.argv:
        health = [*spec.argv[:spec.argv.index("agent") + 1], "--health"]
        extra += (f"# health: `{shlex.join(health)}` as this unit's user and environment exits 0 healthy, "
                  f"1 unhealthy (a fault, or the node must rejoin), 2 not running\n")
    unit = templates.render(
        "systemd.service", description=DESCRIPTIONS[spec.kind], exec_start=quoting.systemd_exec(spec.argv),
        extra=extra, wanted_by="default.target" if spec.scope == "user" else "multi-user.target")
    return [GeneratedFile(targets[0], unit)]


def _ctl(scope: str) -> list[str]:
    return ["systemctl", "--user"] if scope == "user" else ["systemctl"]


def activation(kind: str, scope: str, files: Sequence[GeneratedFile]) -> list[list[str]]:
    return [[*_ctl(scope), "daemon-reload"], [*_ctl(scope), "enable", "--now", f"forge-{kind}.service"]]


def deactivation(kind: str, scope: str, targets: Sequence[Path]) -> list[list[str]]:
    return [[*_ctl(scope), "disable", "--now", f"forge-{kind}.service"]]


def after_removal(kind: str, scope: str) -> list[list[str]]:
    """systemd forgets the removed unit only after a reload."""
    return [[*_ctl(scope), "daemon-reload"]]


def install_notes(kind: str, scope: str, files: Sequence[GeneratedFile]) -> list[str]:
    return ["to keep it running while you are logged out: loginctl enable-linger $USER"] if scope == "user" else []


def uninstall_notes(kind: str) -> list[str]:
    return []
