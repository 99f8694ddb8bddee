"""NSSM: install and uninstall scripts the user runs in an Administrator prompt (nothing
here can elevate itself), so no command runs on install or uninstall."""
from __future__ import annotations

from pathlib import Path, PureWindowsPath
from typing import Sequence

from forge_desktop import __version__
from forge_desktop.startup import quoting, templates
from forge_desktop.startup.artifacts import GeneratedFile

from .spec import DESCRIPTIONS, ServiceSpec

SYSTEM_NEEDS_USER = False
RUNS_COMMANDS = False
FILES_UNDER_HOME_ONLY = True
LOG_DIR = r"%ProgramData%\Forge"


def paths(kind: str, scope: str, home: Path, root: Path, config_home: Path | None,
          appdata: Path | None) -> list[Path]:
    folder = (appdata or home / "AppData" / "Roaming") / "Forge" / "services"
    return [folder / f"install-forge-{kind}.cmd", folder / f"uninstall-forge-{kind}.cmd"]


def _crlf(text: str) -> str:
    """cmd.exe scripts keep Windows line ends whatever OS generated them."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def files(spec: ServiceSpec, targets: list[Path], home: Path) -> list[GeneratedFile]:
    extra = ""
    if spec.env:
        pairs = [f"{k}={v}" for k, v in spec.env.items()]
        extra += f"nssm set {spec.name} AppEnvironmentExtra {quoting.batch_command_line(pairs)}\n"
    if spec.scope == "user":
        extra += ("rem The token from `forge join` is in your own credential store: run as you.\n"
                  "set /p FORGE_PASSWORD=Windows password of %USERDOMAIN%\\%USERNAME%: \n"
                  f'nssm set {spec.name} ObjectName "%USERDOMAIN%\\%USERNAME%" "%FORGE_PASSWORD%"\n'
                  "set FORGE_PASSWORD=\n")
    log_path = str(PureWindowsPath(LOG_DIR) / f"{spec.name}.log")
    values = dict(service=spec.name, version=__version__, display_name=f"Forge {spec.kind}",
                  description=DESCRIPTIONS[spec.kind],
                  program=quoting.batch_command_line(spec.argv[:1]),
                  arguments=quoting.batch_command_line(spec.argv[1:]),
                  log_path=log_path, log_dir=LOG_DIR, extra=extra.rstrip("\n"))
    return [GeneratedFile(targets[0], _crlf(templates.render("nssm-install.cmd", **values))),
            GeneratedFile(targets[1], _crlf(templates.render("nssm-uninstall.cmd", **values)))]


def activation(kind: str, scope: str, files: Sequence[GeneratedFile]) -> list[list[str]]:
    return [[str(files[0].path)]]


def deactivation(kind: str, scope: str, targets: Sequence[Path]) -> list[list[str]]:
    return [["nssm", "stop", f"forge-{kind}"], ["nssm", "remove", f"forge-{kind}", "confirm"]]


def after_removal(kind: str, scope: str) -> list[list[str]]:
    return []


def install_notes(kind: str, scope: str, files: Sequence[GeneratedFile]) -> list[str]:
    return [f"now run, as Administrator: {files[0].path}"]


def uninstall_notes(kind: str) -> list[str]:
    return [f"if the service was installed, remove it as Administrator: "
            f"nssm stop forge-{kind} && nssm remove forge-{kind} confirm"]
