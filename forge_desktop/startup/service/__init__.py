"""Run `forge agent` or `forge hub` as a service on a headless machine.

| os      | scope  | file                                                         |
|---------|--------|--------------------------------------------------------------|
| linux   | user   | <config>/systemd/user/forge-<kind>.service                   |
| linux   | system | /etc/systemd/system/forge-<kind>.service (User=<user>)       |
| macos   | user   | ~/Library/LaunchAgents/dev.forge.<kind>.plist                |
| macos   | system | /Library/LaunchDaemons/dev.forge.<kind>.plist (UserName)     |
| windows | either | %APPDATA%\\Forge\\services\\install-forge-<kind>.cmd and      |
|         |        | uninstall-forge-<kind>.cmd, NSSM scripts run as Administrator|

The node token lives in the keyring of the user who ran `forge join`, so the
default scope is `user`; a `system` service runs as a named user on Linux and
macOS, and as LocalSystem on Windows (pass the token through `env` there).
"""
from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Callable, Mapping, Sequence

from forge_desktop.startup import host
from forge_desktop.startup.artifacts import GeneratedFile, InstallError, install, remove

from . import linux, macos, windows
from .spec import KINDS, SCOPES, ServiceSpec

__all__ = [
    "service_files", "service_targets", "activation_commands", "deactivation_commands",
    "install", "uninstall", "install_service", "uninstall_service", "KINDS", "SCOPES",
]

OS_MODULES: dict[str, ModuleType] = {"linux": linux, "macos": macos, "windows": windows}
"""One module per OS: its files' places and text, and the commands that start and stop it."""


def _os(os_name: str) -> ModuleType:
    host.check_os(os_name)
    return OS_MODULES[os_name]


def _spec(os_name: str, kind: str, exe_cmd: Sequence[str], args: Sequence[str], scope: str,
          env: Mapping[str, str] | None, user: str | None) -> ServiceSpec:
    system = _os(os_name)
    if kind not in KINDS:
        raise InstallError(f"kind {kind!r}: must be one of {', '.join(KINDS)}")
    if scope not in SCOPES:
        raise InstallError(f"scope {scope!r}: must be one of {', '.join(SCOPES)}")
    if not exe_cmd or not all(isinstance(a, str) and a for a in exe_cmd):
        raise InstallError(f"exe_cmd {list(exe_cmd)!r}: must be a non-empty list of non-empty strings")
    if not all(isinstance(a, str) for a in args):
        raise InstallError(f"args {list(args)!r}: must be a list of strings")
    for key in env or {}:
        if not key or "=" in key or not key.replace("_", "").isalnum():
            raise InstallError(f"env key {key!r}: must be a plain variable name")
    if scope == "system" and system.SYSTEM_NEEDS_USER and not user:
        raise InstallError(f"user: a system-scope service on {os_name} needs the user it runs as")
    return ServiceSpec(os_name, kind, scope, [*exe_cmd, kind, *args], dict(env or {}), user)


def service_files(os_name: str, kind: str, exe_cmd: Sequence[str], args: Sequence[str], home: Path,
                  scope: str = "user", *, user: str | None = None, env: Mapping[str, str] | None = None,
                  root: Path = Path("/"), config_home: Path | None = None,
                  appdata: Path | None = None) -> list[GeneratedFile]:
    """The files that run `exe_cmd kind args...` as a service on `os_name`.

    `home`, `config_home` and `appdata` place user-scope files; `root` places
    system-scope files (tests pass a temporary folder for both).
    """
    spec = _spec(os_name, kind, exe_cmd, args, scope, env, user)
    system = OS_MODULES[os_name]
    return system.files(spec, system.paths(kind, scope, home, root, config_home, appdata), home)


def service_targets(os_name: str, kind: str, home: Path, scope: str = "user", *, root: Path = Path("/"),
                    config_home: Path | None = None, appdata: Path | None = None) -> list[Path]:
    system = _os(os_name)
    if kind not in KINDS or scope not in SCOPES:
        raise InstallError(f"kind {kind!r} / scope {scope!r}: must be one of {KINDS} / {SCOPES}")
    return system.paths(kind, scope, home, root, config_home, appdata)


def uninstall(os_name: str, kind: str, home: Path, scope: str = "user", *, root: Path = Path("/"),
              config_home: Path | None = None, appdata: Path | None = None) -> list[str]:
    """Remove the service files; system folders such as /etc/systemd/system are kept."""
    targets = service_targets(os_name, kind, home, scope, root=root, config_home=config_home, appdata=appdata)
    under_home = scope == "user" or OS_MODULES[os_name].FILES_UNDER_HOME_ONLY
    return remove(targets, stop_at=home if under_home else None)


def activation_commands(os_name: str, kind: str, scope: str, files: Sequence[GeneratedFile]) -> list[list[str]]:
    """Commands that load and start the installed service (run by `install_service`)."""
    return _os(os_name).activation(kind, scope, files)


def deactivation_commands(os_name: str, kind: str, scope: str, targets: Sequence[Path]) -> list[list[str]]:
    """Commands that stop and unload the service before its files are removed."""
    return _os(os_name).deactivation(kind, scope, targets)


Runner = Callable[[list[str]], int]


def run_command(argv: list[str]) -> int:
    """Run one activation command; `$UID` (launchctl domains) becomes this user's id."""
    if hasattr(os, "getuid"):
        argv = [a.replace("$UID", str(os.getuid())) for a in argv]
    try:
        return subprocess.run(argv, check=False).returncode
    except OSError as error:
        print(f"could not run {argv[0]}: {error}")
        return 127


def _run_all(commands: list[list[str]], runner: Runner, out: Callable[[str], None]) -> bool:
    for i, argv in enumerate(commands):
        out("running " + " ".join(argv))
        code = runner(argv)
        if code != 0:
            rest = " && ".join(" ".join(a) for a in commands[i:])
            out(f"failed ({code}); run it yourself: {rest}")
            return False
    return True


def install_service(kind: str, args: Sequence[str], scope: str = "user", *, start: bool = True,
                    env: Mapping[str, str] | None = None, os_name: str | None = None,
                    places: host.HostPlaces | None = None, root: Path = Path("/"),
                    runner: Runner = run_command, out: Callable[[str], None] = print,
                    check: bool = False) -> list[str]:
    """`forge agent --install-service` / `forge hub --install-service` on this machine.

    With `check`, a failed activation command raises InstallError (the CLI exits non-zero)
    after the files are written and the remaining steps printed.

    `args` follow `forge <kind>` (a leading `<kind>`, as the CLI passes its
    own sub-command, is taken as the sub-command, not repeated). Writes the
    service files, then (with `start`) enables and starts the service; on Windows the NSSM script is only written and its path printed,
    since it needs an Administrator prompt.
    """
    os_name = os_name or host.current_os()
    places = places or host.HostPlaces.from_env()
    args = list(args)
    if args[:1] == [kind]:
        args = args[1:]
    user = getpass.getuser() if scope == "system" else None
    files = service_files(os_name, kind, host.program_command("forge"), args, places.home, scope,
                          user=user, env=env, root=root, config_home=places.config_home,
                          appdata=places.appdata)
    written = install(files)
    for line in written:
        out(f"wrote {line}")
    system = OS_MODULES[os_name]
    commands = activation_commands(os_name, kind, scope, files)
    started = True
    if system.RUNS_COMMANDS and start:
        started = _run_all(commands, runner, out)
    elif system.RUNS_COMMANDS:
        for argv in commands:
            out("to start it: " + " ".join(argv))
    for line in system.install_notes(kind, scope, files):
        out(line)
    if check and not started:
        raise InstallError(f"the forge-{kind} service files are written but the service did not start "
                           "(see the failed step above)")
    return written


def uninstall_service(kind: str, scope: str = "user", *, stop: bool = True, os_name: str | None = None,
                      places: host.HostPlaces | None = None, root: Path = Path("/"),
                      runner: Runner = run_command, out: Callable[[str], None] = print,
                      check: bool = False) -> list[str]:
    """Stop the service (with `stop`) and remove every file `install_service` wrote. With
    `check`, a failed stop or reload raises InstallError once the files are removed."""
    os_name = os_name or host.current_os()
    places = places or host.HostPlaces.from_env()
    targets = service_targets(os_name, kind, places.home, scope, root=root,
                              config_home=places.config_home, appdata=places.appdata)
    system = OS_MODULES[os_name]
    installed = any(t.exists() for t in targets)
    stopped = True
    if stop and installed and system.RUNS_COMMANDS:
        stopped = _run_all(deactivation_commands(os_name, kind, scope, targets), runner, out)
    removed = uninstall(os_name, kind, places.home, scope, root=root,
                        config_home=places.config_home, appdata=places.appdata)
    for line in removed:
        out(f"removed {line}")
    reload = system.after_removal(kind, scope)
    if installed and stop and reload:
        stopped = _run_all(reload, runner, out) and stopped
    if installed:
        for line in system.uninstall_notes(kind):
            out(line)
    if not removed:
        out(f"no forge-{kind} service files found; nothing removed")
    if check and not stopped:
        raise InstallError(f"the forge-{kind} service files are removed but stopping the service failed "
                           "(see the failed step above)")
    return removed
