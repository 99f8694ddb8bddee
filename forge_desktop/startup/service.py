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
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Callable, Mapping, Sequence
from xml.sax.saxutils import escape

from forge_desktop import __version__
from forge_desktop.startup import host, quoting, templates
from forge_desktop.startup.artifacts import GeneratedFile, InstallError, install, remove

__all__ = [
    "service_files", "service_targets", "activation_commands", "deactivation_commands",
    "install", "uninstall", "install_service", "uninstall_service", "KINDS", "SCOPES",
]

KINDS = ("agent", "hub")
SCOPES = ("user", "system")
DESCRIPTIONS = {"agent": "Forge agent: metrics and idle-time jobs for the fleet",
                "hub": "Forge hub: fleet API, dashboard and job queue"}
WINDOWS_LOG_DIR = r"%ProgramData%\Forge"


@dataclass(frozen=True)
class ServiceSpec:
    """One validated service request."""

    os_name: str
    kind: str
    scope: str
    argv: list[str]
    env: dict[str, str]
    user: str | None

    @property
    def name(self) -> str:
        return f"forge-{self.kind}"

    @property
    def label(self) -> str:
        return f"dev.forge.{self.kind}"


def _spec(os_name: str, kind: str, exe_cmd: Sequence[str], args: Sequence[str], scope: str,
          env: Mapping[str, str] | None, user: str | None) -> ServiceSpec:
    host.check_os(os_name)
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
    if scope == "system" and os_name != "windows" and not user:
        raise InstallError(f"user: a system-scope service on {os_name} needs the user it runs as")
    return ServiceSpec(os_name, kind, scope, [*exe_cmd, kind, *args], dict(env or {}), user)


def _paths(os_name: str, kind: str, scope: str, home: Path, root: Path,
           config_home: Path | None, appdata: Path | None) -> list[Path]:
    if os_name == "linux":
        folder = ((config_home or home / ".config") / "systemd" / "user" if scope == "user"
                  else root / "etc" / "systemd" / "system")
        return [folder / f"forge-{kind}.service"]
    if os_name == "macos":
        folder = (home / "Library" / "LaunchAgents" if scope == "user"
                  else root / "Library" / "LaunchDaemons")
        return [folder / f"dev.forge.{kind}.plist"]
    folder = (appdata or home / "AppData" / "Roaming") / "Forge" / "services"
    return [folder / f"install-forge-{kind}.cmd", folder / f"uninstall-forge-{kind}.cmd"]


def _systemd_unit(spec: ServiceSpec) -> str:
    extra = ""
    if spec.scope == "system":
        extra += f"User={spec.user}\n"
    for key, value in spec.env.items():
        extra += f"Environment={quoting.systemd_environment(key, value)}\n"
    return templates.render(
        "systemd.service", description=DESCRIPTIONS[spec.kind], exec_start=quoting.systemd_exec(spec.argv),
        extra=extra, wanted_by="default.target" if spec.scope == "user" else "multi-user.target")


def _launchd_plist(spec: ServiceSpec, home: Path) -> str:
    extra = ""
    if spec.scope == "system":
        extra += f"\t<key>UserName</key>\n\t<string>{escape(spec.user or '')}</string>\n"
    if spec.env:
        extra += "\t<key>EnvironmentVariables</key>\n\t<dict>\n"
        for key, value in spec.env.items():
            extra += f"\t\t<key>{escape(key)}</key>\n\t\t<string>{escape(value)}</string>\n"
        extra += "\t</dict>\n"
    logs = home / "Library" / "Logs" if spec.scope == "user" else Path("/Library/Logs")
    return templates.render("launchd-service.plist", label=spec.label,
                            program_arguments=quoting.plist_strings(spec.argv), extra=extra,
                            log_path=escape(str(logs / f"{spec.name}.log")))


def _crlf(text: str) -> str:
    """cmd.exe scripts keep Windows line ends whatever OS generated them."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _nssm_scripts(spec: ServiceSpec) -> tuple[str, str]:
    extra = ""
    if spec.env:
        pairs = [f"{k}={v}" for k, v in spec.env.items()]
        extra += f"nssm set {spec.name} AppEnvironmentExtra {quoting.batch_command_line(pairs)}\n"
    if spec.scope == "user":
        extra += ("rem The token from `forge join` is in your own credential store: run as you.\n"
                  "set /p FORGE_PASSWORD=Windows password of %USERDOMAIN%\\%USERNAME%: \n"
                  f'nssm set {spec.name} ObjectName "%USERDOMAIN%\\%USERNAME%" "%FORGE_PASSWORD%"\n'
                  "set FORGE_PASSWORD=\n")
    log_path = str(PureWindowsPath(WINDOWS_LOG_DIR) / f"{spec.name}.log")
    values = dict(service=spec.name, version=__version__, display_name=f"Forge {spec.kind}",
                  description=DESCRIPTIONS[spec.kind],
                  program=quoting.batch_command_line(spec.argv[:1]),
                  arguments=quoting.batch_command_line(spec.argv[1:]),
                  log_path=log_path, log_dir=WINDOWS_LOG_DIR, extra=extra.rstrip("\n"))
    return (_crlf(templates.render("nssm-install.cmd", **values)),
            _crlf(templates.render("nssm-uninstall.cmd", **values)))


def service_files(os_name: str, kind: str, exe_cmd: Sequence[str], args: Sequence[str], home: Path,
                  scope: str = "user", *, user: str | None = None, env: Mapping[str, str] | None = None,
                  root: Path = Path("/"), config_home: Path | None = None,
                  appdata: Path | None = None) -> list[GeneratedFile]:
    """The files that run `exe_cmd kind args...` as a service on `os_name`.

    `home`, `config_home` and `appdata` place user-scope files; `root` places
    system-scope files (tests pass a temporary folder for both).
    """
    spec = _spec(os_name, kind, exe_cmd, args, scope, env, user)
    paths = _paths(os_name, kind, scope, home, root, config_home, appdata)
    if os_name == "linux":
        return [GeneratedFile(paths[0], _systemd_unit(spec))]
    if os_name == "macos":
        return [GeneratedFile(paths[0], _launchd_plist(spec, home))]
    install_cmd, uninstall_cmd = _nssm_scripts(spec)
    return [GeneratedFile(paths[0], install_cmd), GeneratedFile(paths[1], uninstall_cmd)]


def service_targets(os_name: str, kind: str, home: Path, scope: str = "user", *, root: Path = Path("/"),
                    config_home: Path | None = None, appdata: Path | None = None) -> list[Path]:
    host.check_os(os_name)
    if kind not in KINDS or scope not in SCOPES:
        raise InstallError(f"kind {kind!r} / scope {scope!r}: must be one of {KINDS} / {SCOPES}")
    return _paths(os_name, kind, scope, home, root, config_home, appdata)


def uninstall(os_name: str, kind: str, home: Path, scope: str = "user", *, root: Path = Path("/"),
              config_home: Path | None = None, appdata: Path | None = None) -> list[str]:
    """Remove the service files; system folders such as /etc/systemd/system are kept."""
    targets = service_targets(os_name, kind, home, scope, root=root, config_home=config_home, appdata=appdata)
    return remove(targets, stop_at=home if scope == "user" or os_name == "windows" else None)


def activation_commands(os_name: str, kind: str, scope: str, files: Sequence[GeneratedFile]) -> list[list[str]]:
    """Commands that load and start the installed service (run by `install_service`)."""
    name = f"forge-{kind}.service"
    if os_name == "linux":
        ctl = ["systemctl", "--user"] if scope == "user" else ["systemctl"]
        return [[*ctl, "daemon-reload"], [*ctl, "enable", "--now", name]]
    if os_name == "macos":
        domain = "gui/$UID" if scope == "user" else "system"
        return [["launchctl", "bootstrap", domain, str(files[0].path)]]
    return [[str(files[0].path)]]


def deactivation_commands(os_name: str, kind: str, scope: str, targets: Sequence[Path]) -> list[list[str]]:
    """Commands that stop and unload the service before its files are removed."""
    if os_name == "linux":
        ctl = ["systemctl", "--user"] if scope == "user" else ["systemctl"]
        return [[*ctl, "disable", "--now", f"forge-{kind}.service"]]
    if os_name == "macos":
        domain = "gui/$UID" if scope == "user" else "system"
        return [["launchctl", "bootout", f"{domain}/dev.forge.{kind}"]]
    return [["nssm", "stop", f"forge-{kind}"], ["nssm", "remove", f"forge-{kind}", "confirm"]]


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
    commands = activation_commands(os_name, kind, scope, files)
    started = True
    if os_name == "windows":
        out(f"now run, as Administrator: {files[0].path}")
    elif start:
        started = _run_all(commands, runner, out)
    else:
        for argv in commands:
            out("to start it: " + " ".join(argv))
    if os_name == "linux" and scope == "user":
        out("to keep it running while you are logged out: loginctl enable-linger $USER")
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
    installed = any(t.exists() for t in targets)
    stopped = True
    if stop and installed and os_name != "windows":
        stopped = _run_all(deactivation_commands(os_name, kind, scope, targets), runner, out)
    removed = uninstall(os_name, kind, places.home, scope, root=root,
                        config_home=places.config_home, appdata=places.appdata)
    for line in removed:
        out(f"removed {line}")
    if installed and os_name == "linux" and stop:
        stopped = _run_all([activation_commands(os_name, kind, scope, [])[0]], runner, out) and stopped
    if installed and os_name == "windows":
        out(f"if the service was installed, remove it as Administrator: "
            f"nssm stop forge-{kind} && nssm remove forge-{kind} confirm")
    if not removed:
        out(f"no forge-{kind} service files found; nothing removed")
    if check and not stopped:
        raise InstallError(f"the forge-{kind} service files are removed but stopping the service failed "
                           "(see the failed step above)")
    return removed
