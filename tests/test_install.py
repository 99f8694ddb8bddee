"""Autostart and service files for Linux, macOS and Windows, generated and installed in a temporary home."""
from __future__ import annotations

import configparser
import os
import plistlib
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from forge_desktop.startup import autostart, host, quoting, service, templates
from forge_desktop.startup.artifacts import GeneratedFile, InstallError, RegistryValue, install

ROOT = Path(__file__).resolve().parent.parent
DESKTOP_CMD = ["/opt/Forge Apps/forge-desktop", "--minimized"]
FORGE_CMD = ["/usr/local/bin/forge"]
AGENT_ARGS = ["--hub", "http://hub.tail:3000", "--jobs", "idle"]


class MemoryRegistry:
    """HKCU stand-in: the machine has no Windows registry."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def set_value(self, key: str, name: str, value: str) -> None:
        self.values[(key, name)] = value

    def delete_value(self, key: str, name: str) -> bool:
        return self.values.pop((key, name), None) is not None


def snapshot(folder: Path) -> dict[str, tuple[str, int, bytes]]:
    """Every entry below `folder`: kind, permission bits and file bytes."""
    out = {}
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        kind = "dir" if path.is_dir() else "file"
        out[str(path.relative_to(folder))] = (kind, stat.S_IMODE(st.st_mode),
                                              path.read_bytes() if kind == "file" else b"")
    return out


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home" / "alice"
    h.mkdir(parents=True)
    (h / ".bashrc").write_text("export EDITOR=vi\n")
    return h


def desktop_entry(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(text)
    return dict(parser["Desktop Entry"])


# --- autostart --------------------------------------------------------------------------

def test_linux_autostart_is_an_xdg_entry_in_config_autostart(home: Path) -> None:
    [f] = autostart.autostart_files("linux", DESKTOP_CMD, home)
    assert f.path == home / ".config" / "autostart" / "forge-desktop.desktop"
    assert f.mode == 0o644
    entry = desktop_entry(f.content)
    assert entry["Type"] == "Application"
    assert entry["Exec"] == '"/opt/Forge Apps/forge-desktop" --minimized'
    assert entry["X-GNOME-Autostart-enabled"] == "true"
    assert entry["Terminal"] == "false"
    assert "$" not in f.content


def test_linux_autostart_follows_xdg_config_home(home: Path, tmp_path: Path) -> None:
    [f] = autostart.autostart_files("linux", ["forge-desktop"], home, config_home=tmp_path / "cfg")
    assert f.path == tmp_path / "cfg" / "autostart" / "forge-desktop.desktop"


def test_macos_autostart_is_a_launch_agent_plist(home: Path) -> None:
    [f] = autostart.autostart_files("macos", DESKTOP_CMD, home)
    assert f.path == home / "Library" / "LaunchAgents" / "dev.forge.desktop.plist"
    plist = plistlib.loads(f.content.encode())
    assert plist == {"Label": "dev.forge.desktop", "ProgramArguments": DESKTOP_CMD, "RunAtLoad": True,
                     "ProcessType": "Interactive", "LimitLoadToSessionType": "Aqua"}


def test_windows_autostart_is_the_exact_run_key_command_line(home: Path) -> None:
    [value] = autostart.autostart_files("windows", [r"C:\Program Files\Forge\forge-desktop.exe", "--minimized"], home)
    assert value == RegistryValue(r"Software\Microsoft\Windows\CurrentVersion\Run", "Forge Desktop",
                                  r'"C:\Program Files\Forge\forge-desktop.exe" --minimized')


def test_windows_run_value_is_the_one_the_inno_setup_script_writes() -> None:
    iss = (ROOT / "installer" / "windows" / "forge.iss").read_text()
    assert f'Subkey: "{autostart.RUN_KEY}"; ValueType: string; ValueName: "{autostart.RUN_VALUE_NAME}"' in iss


@pytest.mark.parametrize("os_name", host.OS_NAMES)
def test_autostart_install_then_uninstall_leaves_home_as_it_was(os_name: str, home: Path) -> None:
    registry = MemoryRegistry()
    before = snapshot(home)
    written = install(autostart.autostart_files(os_name, DESKTOP_CMD, home), registry)
    assert len(written) == 1
    assert snapshot(home) != before or registry.values
    removed = autostart.uninstall(os_name, home, registry=registry)
    assert len(removed) == 1
    assert snapshot(home) == before
    assert registry.values == {}


def test_installed_autostart_file_has_its_content_and_mode_despite_umask(home: Path) -> None:
    old = os.umask(0o077)
    try:
        files = autostart.autostart_files("linux", DESKTOP_CMD, home)
        install(files)
    finally:
        os.umask(old)
    path = files[0].path
    assert path.read_text() == files[0].content
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["forge-desktop.desktop"]


def test_uninstall_removes_only_what_forge_added(home: Path) -> None:
    autostart_dir = home / ".config" / "autostart"
    autostart_dir.mkdir(parents=True)
    (autostart_dir / "syncthing.desktop").write_text("[Desktop Entry]\nExec=syncthing\n")
    before = snapshot(home)
    install(autostart.autostart_files("linux", DESKTOP_CMD, home))
    autostart.uninstall("linux", home)
    assert snapshot(home) == before


def test_uninstall_when_nothing_was_installed_removes_nothing(home: Path) -> None:
    before = snapshot(home)
    assert autostart.uninstall("linux", home) == []
    assert autostart.uninstall("windows", home, registry=MemoryRegistry()) == []
    assert snapshot(home) == before


def test_install_autostart_for_the_current_os_prints_what_it_wrote(home: Path) -> None:
    places = host.HostPlaces(home=home, config_home=None, appdata=None)
    lines: list[str] = []
    autostart.install_autostart(["/opt/forge/forge-desktop"], os_name="linux", places=places, out=lines.append)
    path = home / ".config" / "autostart" / "forge-desktop.desktop"
    assert lines == [f"wrote {path} (mode 644)"]
    assert desktop_entry(path.read_text())["Exec"] == "/opt/forge/forge-desktop"
    lines.clear()
    autostart.uninstall_autostart(os_name="linux", places=places, out=lines.append)
    assert lines == [f"removed {path}"]
    assert not (home / ".config").exists()


def test_install_autostart_on_windows_writes_the_registry(home: Path) -> None:
    registry = MemoryRegistry()
    places = host.HostPlaces(home=home, config_home=None, appdata=None)
    autostart.install_autostart([r"C:\Forge\forge-desktop.exe"], os_name="windows", places=places,
                                registry=registry, out=lambda _: None)
    assert registry.values == {(autostart.RUN_KEY, "Forge Desktop"): r"C:\Forge\forge-desktop.exe"}
    autostart.uninstall_autostart(os_name="windows", places=places, registry=registry, out=lambda _: None)
    assert registry.values == {}


# --- services ---------------------------------------------------------------------------

def unit_sections(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string(text)
    return parser


def test_linux_user_service_is_a_systemd_user_unit(home: Path) -> None:
    [f] = service.service_files("linux", "agent", FORGE_CMD, AGENT_ARGS, home)
    assert f.path == home / ".config" / "systemd" / "user" / "forge-agent.service"
    unit = unit_sections(f.content)
    assert unit["Service"]["ExecStart"] == "/usr/local/bin/forge agent --hub http://hub.tail:3000 --jobs idle"
    assert unit["Service"]["Restart"] == "always"
    assert "User" not in unit["Service"]
    assert unit["Install"]["WantedBy"] == "default.target"
    assert unit["Unit"]["After"] == "network-online.target"


def test_linux_agent_unit_says_how_to_check_the_agents_health(home: Path) -> None:
    [agent] = service.service_files("linux", "agent", ["/opt/My Forge/forge"], AGENT_ARGS, home)
    assert "# health: `'/opt/My Forge/forge' agent --health` as this unit's user" in agent.content
    assert "exits 0 healthy, 1 unhealthy" in agent.content
    [hub] = service.service_files("linux", "hub", FORGE_CMD, ["--port", "3000"], home)
    assert "--health" not in hub.content


def test_linux_system_service_runs_as_the_user_with_its_environment(tmp_path: Path, home: Path) -> None:
    [f] = service.service_files("linux", "hub", ["/opt/forge/forge"], ["--port", "3000"], home, "system",
                                user="alice", env={"FORGE_DATA_DIR": "/srv/forge data"}, root=tmp_path / "root")
    assert f.path == tmp_path / "root" / "etc" / "systemd" / "system" / "forge-hub.service"
    unit = unit_sections(f.content)
    assert unit["Service"]["User"] == "alice"
    assert unit["Service"]["Environment"] == '"FORGE_DATA_DIR=/srv/forge data"'
    assert unit["Service"]["ExecStart"] == "/opt/forge/forge hub --port 3000"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_exec_start_survives_spaces_and_specifiers() -> None:
    line = quoting.systemd_exec(["/opt/My Forge/forge", "agent", "--node-id", "50%$x"])
    assert line == '"/opt/My Forge/forge" agent --node-id "50%%$$x"'
    # systemd's word splitting matches POSIX shlex for this subset once the doubling is undone.
    assert shlex.split(line.replace("%%", "%").replace("$$", "$")) == ["/opt/My Forge/forge", "agent",
                                                                       "--node-id", "50%$x"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_generated_unit_passes_systemd_analyze(tmp_path: Path, home: Path) -> None:
    [f] = service.service_files("linux", "agent", ["/bin/true"], [], home)
    unit = tmp_path / "forge-agent.service"
    unit.write_text(f.content)
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert "forge-agent.service" not in result.stderr, result.stderr


def test_macos_services_are_a_launch_agent_or_a_launch_daemon(tmp_path: Path, home: Path) -> None:
    [user] = service.service_files("macos", "agent", FORGE_CMD, AGENT_ARGS, home)
    assert user.path == home / "Library" / "LaunchAgents" / "dev.forge.agent.plist"
    plist = plistlib.loads(user.content.encode())
    assert plist["ProgramArguments"] == [*FORGE_CMD, "agent", *AGENT_ARGS]
    assert plist["KeepAlive"] is True and plist["RunAtLoad"] is True
    assert plist["StandardOutPath"] == str(home / "Library" / "Logs" / "forge-agent.log")
    assert "UserName" not in plist

    root = tmp_path / "root"
    [system] = service.service_files("macos", "agent", FORGE_CMD, AGENT_ARGS, home, "system", user="alice",
                                     env={"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}, root=root)
    assert system.path == root / "Library" / "LaunchDaemons" / "dev.forge.agent.plist"
    plist = plistlib.loads(system.content.encode())
    assert plist["Label"] == "dev.forge.agent"
    assert plist["UserName"] == "alice"
    assert plist["EnvironmentVariables"] == {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    assert plist["StandardErrorPath"] == "/Library/Logs/forge-agent.log"


def test_plist_escapes_xml_in_arguments(home: Path) -> None:
    [f] = service.service_files("macos", "agent", FORGE_CMD, ["--hub", "http://h:3000/?a=1&b=<2>"], home)
    assert plistlib.loads(f.content.encode())["ProgramArguments"][-1] == "http://h:3000/?a=1&b=<2>"


def test_windows_service_is_a_pair_of_nssm_scripts(home: Path) -> None:
    install_cmd, uninstall_cmd = service.service_files(
        "windows", "agent", [r"C:\Program Files\Forge\forge.exe"], ["--hub", "http://hub:3000/?x=1&y=100%"], home)
    folder = home / "AppData" / "Roaming" / "Forge" / "services"
    assert (install_cmd.path, uninstall_cmd.path) == (folder / "install-forge-agent.cmd",
                                                      folder / "uninstall-forge-agent.cmd")
    lines = install_cmd.content.split("\r\n")
    assert "\n" not in install_cmd.content.replace("\r\n", "")
    assert ('nssm install forge-agent "C:\\Program Files\\Forge\\forge.exe" agent --hub '
            '"http://hub:3000/?x=1&y=100%%" || exit /b 1') in lines
    assert "nssm set forge-agent Start SERVICE_AUTO_START" in lines
    assert any(line.startswith("nssm set forge-agent ObjectName") for line in lines)
    assert lines[-2:] == ["nssm start forge-agent", ""]
    assert "nssm remove forge-agent confirm" in uninstall_cmd.content.split("\r\n")


def test_windows_system_service_runs_as_local_system(home: Path) -> None:
    install_cmd, _ = service.service_files("windows", "hub", [r"C:\Forge\forge.exe"], [], home, "system",
                                           env={"ADMIN_SECRET": "s3cret"})
    assert "ObjectName" not in install_cmd.content
    assert "nssm set forge-hub AppEnvironmentExtra ADMIN_SECRET=s3cret\r\n" in install_cmd.content


@pytest.mark.parametrize("os_name", host.OS_NAMES)
@pytest.mark.parametrize("kind", service.KINDS)
def test_service_install_then_uninstall_leaves_home_as_it_was(os_name: str, kind: str, home: Path) -> None:
    before = snapshot(home)
    files = service.service_files(os_name, kind, FORGE_CMD, [], home)
    install(files)
    for f in files:
        assert f.path.read_bytes().decode() == f.content
    assert service.uninstall(os_name, kind, home) == [str(f.path) for f in files]
    assert snapshot(home) == before


def test_system_service_uninstall_keeps_the_system_folder(tmp_path: Path, home: Path) -> None:
    root = tmp_path / "root"
    (root / "etc" / "systemd" / "system").mkdir(parents=True)
    before = snapshot(root)
    install(service.service_files("linux", "agent", FORGE_CMD, [], home, "system", user="alice", root=root))
    assert (root / "etc" / "systemd" / "system" / "forge-agent.service").is_file()
    service.uninstall("linux", "agent", home, "system", root=root)
    assert snapshot(root) == before


def test_agent_and_hub_services_do_not_touch_each_other(home: Path) -> None:
    install(service.service_files("linux", "agent", FORGE_CMD, [], home))
    hub = service.service_files("linux", "hub", FORGE_CMD, [], home)
    install(hub)
    service.uninstall("linux", "agent", home)
    assert [p.name for p in hub[0].path.parent.iterdir()] == ["forge-hub.service"]


class RecordingRunner:
    def __init__(self, code: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.code = code

    def __call__(self, argv: list[str]) -> int:
        self.calls.append(argv)
        return self.code


def test_install_service_writes_enables_and_uninstall_disables(home: Path) -> None:
    places = host.HostPlaces(home=home, config_home=home / "cfg", appdata=None)
    runner, lines = RecordingRunner(), []
    before = snapshot(home)
    # The CLI passes its own sub-command first; it must not be repeated.
    service.install_service("agent", ["agent", "--hub", "http://hub:3000"], os_name="linux", places=places,
                            runner=runner, out=lines.append)
    unit = home / "cfg" / "systemd" / "user" / "forge-agent.service"
    exec_start = unit_sections(unit.read_text())["Service"]["ExecStart"]
    assert exec_start.endswith(" agent --hub http://hub:3000") and "agent agent" not in exec_start
    assert runner.calls == [["systemctl", "--user", "daemon-reload"],
                            ["systemctl", "--user", "enable", "--now", "forge-agent.service"]]
    assert lines[0] == f"wrote {unit} (mode 644)"
    runner.calls.clear()
    service.uninstall_service("agent", os_name="linux", places=places, runner=runner, out=lines.append)
    assert runner.calls == [["systemctl", "--user", "disable", "--now", "forge-agent.service"],
                            ["systemctl", "--user", "daemon-reload"]]
    assert snapshot(home) == before


def test_install_service_reports_a_failing_start_and_keeps_the_files(home: Path) -> None:
    places = host.HostPlaces(home=home, config_home=None, appdata=None)
    lines: list[str] = []
    service.install_service("hub", [], os_name="macos", places=places, runner=RecordingRunner(5),
                            out=lines.append)
    assert (home / "Library" / "LaunchAgents" / "dev.forge.hub.plist").is_file()
    assert any(line.startswith("failed (5); run it yourself: launchctl bootstrap gui/$UID") for line in lines)


def test_a_failing_step_prints_every_remaining_step(home: Path) -> None:
    places = host.HostPlaces(home=home, config_home=None, appdata=None)
    lines: list[str] = []
    service.install_service("agent", [], os_name="linux", places=places, runner=RecordingRunner(1),
                            out=lines.append)
    assert ("failed (1); run it yourself: systemctl --user daemon-reload && "
            "systemctl --user enable --now forge-agent.service") in lines


def test_run_command_runs_real_processes_and_survives_a_missing_program(capsys: pytest.CaptureFixture) -> None:
    assert service.run_command(["sh", "-c", 'test "$0" = "$1"', "$UID", str(os.getuid())]) == 0
    assert service.run_command(["sh", "-c", "exit 3"]) == 3
    assert service.run_command(["/nonexistent/systemctl", "--user"]) == 127
    assert "could not run /nonexistent/systemctl" in capsys.readouterr().out


def test_install_service_on_windows_only_writes_the_scripts(home: Path) -> None:
    places = host.HostPlaces(home=home, config_home=None, appdata=home / "Roaming")
    runner, lines = RecordingRunner(), []
    service.install_service("agent", [], os_name="windows", places=places, runner=runner, out=lines.append)
    script = home / "Roaming" / "Forge" / "services" / "install-forge-agent.cmd"
    assert script.is_file() and runner.calls == []
    assert lines[-1] == f"now run, as Administrator: {script}"


# --- the command autostart and services run -------------------------------------------

@pytest.fixture()
def frozen_forge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-file `forge` build as sys.executable, with an empty PATH."""
    folder = tmp_path / "Forge"
    folder.mkdir()
    exe = folder / "forge"
    exe.write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    return exe


def test_a_frozen_build_runs_itself_or_the_build_beside_it(frozen_forge: Path) -> None:
    assert host.program_command("forge") == [str(frozen_forge)]
    assert host.program_command("forge-desktop", via_forge=["desktop"]) == [str(frozen_forge), "desktop"]
    (frozen_forge.parent / "forge-desktop").write_text("")
    assert host.program_command("forge-desktop", via_forge=["desktop"]) == [str(frozen_forge.parent / "forge-desktop")]


def test_an_installed_package_runs_its_entry_script_from_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "forge"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert host.program_command("forge") == [str(script)]
    assert host.program_command("forge-desktop", via_forge=["desktop"]) == [str(script), "desktop"]
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert host.program_command("forge", via_forge=["x"]) == [sys.executable, "-m", "forge_desktop.cli", "x"]


# --- bad input and templates ------------------------------------------------------------

@pytest.mark.parametrize("call, field", [
    (lambda h: autostart.autostart_files("beos", ["x"], h), "os_name"),
    (lambda h: autostart.autostart_files("linux", [], h), "exe_cmd"),
    (lambda h: autostart.autostart_files("linux", ["forge", ""], h), "exe_cmd"),
    (lambda h: service.service_files("linux", "worker", ["forge"], [], h), "kind"),
    (lambda h: service.service_files("linux", "agent", ["forge"], [], h, "global"), "scope"),
    (lambda h: service.service_files("linux", "agent", ["forge"], [], h, "system"), "user"),
    (lambda h: service.service_files("macos", "agent", ["forge"], [], h, env={"A=B": "c"}), "env key"),
])
def test_bad_input_is_refused_naming_the_field(call, field: str, home: Path) -> None:
    with pytest.raises(InstallError, match=f"^{field}"):
        call(home)


def test_current_os_maps_platforms_and_refuses_others() -> None:
    assert [host.current_os(p) for p in ("linux", "win32", "darwin")] == ["linux", "windows", "macos"]
    with pytest.raises(InstallError, match="platform 'sunos5'"):
        host.current_os("sunos5")


def test_every_template_ships_and_installer_templates_is_the_same_folder() -> None:
    package_dir = ROOT / "forge_desktop" / "startup" / "templates"
    assert sorted(p.name for p in package_dir.iterdir()) == sorted(templates.TEMPLATE_NAMES)
    assert (ROOT / "installer" / "templates").resolve() == package_dir.resolve()
    for name in templates.TEMPLATE_NAMES:
        assert templates.load(name).template


def test_pyproject_package_data_ships_every_install_template() -> None:
    """A wheel must carry the templates; fails until pyproject declares them (see the onboarding report)."""
    import fnmatch
    import tomllib

    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = {f"{pkg.replace('.', '/')}/{glob}" for pkg, globs in package_data.items() for glob in globs}
    for name in templates.TEMPLATE_NAMES:
        path = f"forge_desktop/startup/templates/{name}"
        assert any(fnmatch.fnmatchcase(path, pattern) for pattern in shipped), f"{path} is not package data"


def test_a_missing_template_value_is_an_error_not_a_dollar_left_in() -> None:
    with pytest.raises(InstallError, match="no value for 'icon'"):
        templates.render("xdg.desktop", exec="forge", extra="")


def test_registry_values_need_a_registry(home: Path) -> None:
    with pytest.raises(InstallError, match="no registry given"):
        install(autostart.autostart_files("windows", ["forge-desktop.exe"], home))


def test_failed_write_leaves_no_partial_file(home: Path) -> None:
    target = home / "apps"
    target.mkdir()
    with pytest.raises(UnicodeEncodeError):
        install([GeneratedFile(target / "x.desktop", "Name=\ud800")])
    assert list(target.iterdir()) == []
