"""Build inputs (version, Inno Setup, Info.plist, icons, Linux tarball) and, when asked, the real one-file build.

The build smoke test is slow (minutes on 2 cores): it runs only with
FORGE_BUILD_TEST=1. FORGE_BINARY=/path/to/forge reuses a binary built earlier.
"""
from __future__ import annotations

import ast
import json
import os
import socket
import struct
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import forge_desktop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "installer"))
import buildinfo  # noqa: E402
import icons  # noqa: E402

BUILD_SCRIPT = ROOT / "installer" / "linux" / "build_linux.sh"


# --- version and platform installers ----------------------------------------------------

def test_version_is_parsed_from_the_package_file_without_importing_it(tmp_path: Path) -> None:
    assert buildinfo.read_version() == forge_desktop.__version__
    (tmp_path / "forge_contracts").mkdir()
    (tmp_path / "forge_contracts" / "__init__.py").write_text('__version__ = "9.8.7rc1"\n')
    assert buildinfo.read_version(tmp_path) == "9.8.7rc1"
    (tmp_path / "forge_contracts" / "__init__.py").write_text("VERSION = 1\n")
    with pytest.raises(ValueError, match="no __version__"):
        buildinfo.read_version(tmp_path)


def test_inno_setup_script_holds_the_version_and_the_build_file_names() -> None:
    version = forge_desktop.__version__
    text = buildinfo.render_iss(version, "C:/ci/dist", "C:/ci/out", "C:/ci/build/icons/forge.ico")
    lines = text.splitlines()
    assert f'#define AppVersion "{version}"' in lines
    assert '#define DistDir "C:\\ci\\dist"' in lines
    assert 'Source: "{#DistDir}\\forge.exe"; DestDir: "{app}"; Flags: ignoreversion' in lines
    assert 'Source: "{#DistDir}\\forge-desktop.exe"; DestDir: "{app}"; Flags: ignoreversion' in lines
    assert "OutputDir=C:\\ci\\out" in lines
    assert "SetupIconFile=C:\\ci\\build\\icons\\forge.ico" in lines
    assert "OutputBaseFilename=forge-{#AppVersion}-windows-setup" in lines
    assert "PrivilegesRequired=lowest" in lines
    assert "${" not in text


def test_inno_setup_script_names_the_binaries_the_specs_build() -> None:
    for spec, name in (("forge.spec", "CLI_NAME"), ("forge-desktop.spec", "DESKTOP_NAME")):
        assert f"name=buildinfo.{name}," in (ROOT / "installer" / spec).read_text()
    text = buildinfo.render_iss("1.0", "d", "o", "i")
    assert f"{buildinfo.CLI_NAME}.exe" in text and f"{buildinfo.DESKTOP_NAME}.exe" in text


def test_macos_bundle_is_a_menu_bar_app_with_the_package_version() -> None:
    plist = buildinfo.info_plist("2.3.4")
    assert plist["LSUIElement"] is True
    assert plist["CFBundleShortVersionString"] == plist["CFBundleVersion"] == "2.3.4"
    assert plist["CFBundleIdentifier"] == "dev.forge.desktop"
    assert plist["CFBundleExecutable"] == "forge-desktop"
    spec = (ROOT / "installer" / "forge-desktop.spec").read_text()
    assert "info_plist=buildinfo.info_plist(VERSION)" in spec and 'name="Forge.app"' in spec


def test_windows_version_resource_holds_the_version() -> None:
    text = buildinfo.windows_version_info("1.2.3", "forge", "Forge CLI")
    assert "filevers=(1, 2, 3, 0)" in text
    assert "StringStruct('OriginalFilename', 'forge.exe')" in text
    assert "StringStruct('ProductVersion', '1.2.3')" in text


@pytest.mark.parametrize("spec, entry, function", [
    ("forge.spec", "entry_forge.py", "main"),
    ("forge-desktop.spec", "entry_desktop.py", "desktop_main"),
])
def test_specs_are_python_and_point_at_entries_calling_the_cli(spec: str, entry: str, function: str) -> None:
    ast.parse((ROOT / "installer" / spec).read_text())
    assert f'"{entry}"' in (ROOT / "installer" / spec).read_text()
    source = (ROOT / "installer" / entry).read_text()
    assert f"from forge_desktop.cli import {function}" in source
    assert "multiprocessing.freeze_support()" in source
    import forge_desktop.cli as cli

    assert callable(getattr(cli, function))


# --- icons ------------------------------------------------------------------------------

def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_committed_icons_are_small_and_exactly_what_the_script_draws() -> None:
    for name, size in (("forge.png", 256), ("forge-32.png", 32)):
        committed = (ROOT / "forge_desktop" / "resources" / name).read_bytes()
        assert len(committed) < 50_000
        assert png_size(committed) == (size, size)
        assert committed == icons.png(size)


def test_ico_and_icns_embed_every_size() -> None:
    pngs = {s: icons.png(s) for s in (16, 32, 256)}
    ico = icons.ico(pngs)
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind, count) == (0, 1, 3)
    for i, s in enumerate(sorted(pngs)):
        w, h, _, _, planes, bpp, length, offset = struct.unpack("<BBBBHHII", ico[6 + 16 * i:22 + 16 * i])
        assert (w, planes, bpp) == (s % 256, 1, 32)
        assert png_size(ico[offset:offset + length]) == (s, s)
    icns = icons.icns(pngs)
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    assert [t for t in (b"icp4", b"icp5", b"ic08") if t in icns] == [b"icp4", b"icp5", b"ic08"]


# --- Linux tarball ----------------------------------------------------------------------

def run_build_script(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(BUILD_SCRIPT), *args], capture_output=True, text=True, timeout=60,
                          env=env)


def fake_dist(folder: Path, names: tuple[str, ...]) -> Path:
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_text(f"#!/bin/sh\necho {name}\n")
    return folder


def test_linux_tarball_holds_binaries_desktop_entry_and_icon(tmp_path: Path) -> None:
    dist = fake_dist(tmp_path / "dist", ("forge", "forge-desktop"))
    result = run_build_script(str(dist), str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    tarball = Path(result.stdout.strip().splitlines()[-1])
    version = forge_desktop.__version__
    top = f"forge-{version}-linux-{os.uname().machine}"
    assert tarball == tmp_path / "out" / f"{top}.tar.gz"
    with tarfile.open(tarball) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == [top, *(f"{top}/{n}" for n in (
            "forge", "forge-desktop", "forge-desktop.desktop", "forge-desktop.png", "install.sh"))]
        modes = {name.split("/")[-1]: m.mode for name, m in members.items() if m.isfile()}
        assert modes == {"forge": 0o755, "forge-desktop": 0o755, "install.sh": 0o755,
                         "forge-desktop.desktop": 0o644, "forge-desktop.png": 0o644}
        assert {(m.uid, m.gid) for m in members.values()} == {(0, 0)}
        entry = tar.extractfile(f"{top}/forge-desktop.desktop").read().decode()
        assert tar.extractfile(f"{top}/forge").read() == (dist / "forge").read_bytes()
        assert tar.extractfile(f"{top}/forge-desktop.png").read() == icons.png(256)
    assert "Exec=forge-desktop\n" in entry and "Icon=forge-desktop\n" in entry


def test_linux_tarball_without_the_tray_build_launches_forge_desktop(tmp_path: Path) -> None:
    dist = fake_dist(tmp_path / "dist", ("forge",))
    result = run_build_script(str(dist))
    assert result.returncode == 0, result.stderr
    with tarfile.open(result.stdout.strip()) as tar:
        names = [Path(n).name for n in tar.getnames()]
        [desktop] = [m for m in tar.getmembers() if m.name.endswith(".desktop")]
        entry = tar.extractfile(desktop).read().decode()
    assert "forge-desktop" not in names
    assert "Exec=forge desktop\n" in entry


def test_linux_tarball_refuses_a_missing_build(tmp_path: Path) -> None:
    result = run_build_script(str(tmp_path / "nothing"))
    assert result.returncode == 1
    assert "nothing/forge not found" in result.stderr


def test_unpacked_install_sh_puts_forge_into_local(tmp_path: Path) -> None:
    dist = fake_dist(tmp_path / "dist", ("forge", "forge-desktop"))
    tarball = run_build_script(str(dist)).stdout.strip()
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    [folder] = (tmp_path / "unpacked").iterdir()
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": os.environ["PATH"]}
    result = subprocess.run(["sh", str(folder / "install.sh")], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert os.access(home / ".local" / "bin" / "forge", os.X_OK)
    entry = (home / ".local" / "share" / "applications" / "forge-desktop.desktop").read_text()
    assert f"Exec={home}/.local/bin/forge-desktop\n" in entry
    assert (home / ".local/share/icons/hicolor/256x256/apps/forge-desktop.png").is_file()


# --- the real build (slow) --------------------------------------------------------------

ADMIN = "pyinstaller-smoke-admin-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def forge_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prebuilt = os.environ.get("FORGE_BINARY")
    if prebuilt:
        return Path(prebuilt)
    work = tmp_path_factory.mktemp("pyinstaller")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                             "--distpath", str(work / "dist"), "--workpath", str(work / "build"),
                             str(ROOT / "installer" / "forge.spec")],
                            cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    binary = work / "dist" / "forge"
    report = {"build_s": round(time.monotonic() - started, 1), "size_mb": round(binary.stat().st_size / 2**20, 1)}
    print(f"\nforge one-file build: {report}")
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "pyinstaller-forge.json").write_text(json.dumps(report) + "\n")
    return binary


class BinaryFleet:
    """A hub run by the one-file binary, with a fresh home for everything the binary starts."""

    def __init__(self, binary: Path, tmp_path: Path) -> None:
        self.tmp = tmp_path
        home = tmp_path / "home"
        self.env = dict(os.environ, ADMIN_SECRET=ADMIN, HOME=str(home), XDG_CONFIG_HOME=str(home / "config"),
                        XDG_DATA_HOME=str(home / "data"), XDG_CACHE_HOME=str(home / "cache"),
                        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring")
        self.url = f"http://127.0.0.1:{free_port()}"
        self.procs: list[subprocess.Popen] = []
        self.start(binary, ["hub", "--host", "127.0.0.1", "--port", self.url.rsplit(":", 1)[1],
                            "--data-dir", str(tmp_path / "hub")], "hub")
        deadline = time.monotonic() + 60
        while True:
            try:
                if http("GET", f"{self.url}/api/fleet")[0] == 200:
                    return
            except OSError:
                pass
            assert self.procs[0].poll() is None and time.monotonic() < deadline, self.log("hub")
            time.sleep(0.2)

    def start(self, binary: Path, args: list[str], name: str) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "w") as log:
            proc = subprocess.Popen([str(binary), *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()[-2000:]

    def wait_for_node(self, node_id: str, proc: subprocess.Popen, started: float, limit_s: float) -> float | None:
        while time.monotonic() - started < limit_s and proc.poll() is None:
            nodes = http("GET", f"{self.url}/api/fleet")[1]["nodes"]
            if any(n["id"] == node_id and n.get("cpu") is not None for n in nodes):
                return time.monotonic() - started
            time.sleep(0.25)
        return None

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("FORGE_BUILD_TEST") != "1", reason="set FORGE_BUILD_TEST=1 to build with PyInstaller")
def test_unpacked_tarball_and_a_join_code_bring_a_card_live_within_a_minute(forge_binary: Path, tmp_path: Path) -> None:
    """Issue 7's measure: from the tarball and a join code to a live card, as a new user types it."""
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "forge").symlink_to(forge_binary)
    tarball = run_build_script(str(dist), str(tmp_path)).stdout.strip()
    fleet = BinaryFleet(forge_binary, tmp_path)
    try:
        admin_env = dict(fleet.env, CENTRAL_URL=fleet.url)
        code_out = subprocess.run([str(forge_binary), "tokens", "join-code"], env=admin_env,
                                  capture_output=True, text=True, timeout=60)
        assert code_out.returncode == 0, code_out.stderr
        code = code_out.stdout.strip().splitlines()[-1]

        started = time.monotonic()
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp_path / "new-user", filter="data")
        [folder] = (tmp_path / "new-user").iterdir()
        unpacked = time.monotonic() - started
        joined = subprocess.run([str(folder / "forge"), "join", fleet.url, code, "--node-id", "new-laptop"],
                                env=fleet.env, capture_output=True, text=True, timeout=60)
        assert joined.returncode == 0, joined.stdout + joined.stderr
        join_done = time.monotonic() - started
        agent = fleet.start(folder / "forge", ["agent"], "agent")
        seen = fleet.wait_for_node("new-laptop", agent, started, 60)
        assert seen is not None, fleet.log("agent")
        print(f"\nunpacked {unpacked:.1f} s, joined {join_done:.1f} s, card live {seen:.1f} s")
        again = subprocess.run([str(folder / "forge"), "join", fleet.url, code, "--node-id", "other"],
                               env=fleet.env, capture_output=True, text=True, timeout=60)
        assert again.returncode != 0 and "join code refused" in again.stderr
    finally:
        fleet.close()


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("FORGE_BUILD_TEST") != "1", reason="set FORGE_BUILD_TEST=1 to build with PyInstaller")
def test_one_file_forge_binary_runs_a_hub_and_an_agent_whose_node_appears(forge_binary: Path, tmp_path: Path) -> None:
    version = subprocess.run([str(forge_binary), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"forge {forge_desktop.__version__}"
    fleet = BinaryFleet(forge_binary, tmp_path)
    try:
        status, body = http("POST", f"{fleet.url}/api/tokens", {"node_id": "pyi-node"}, token=ADMIN)
        assert status == 201, body
        started = time.monotonic()
        agent = fleet.start(forge_binary, ["agent", "--hub", fleet.url, "--node-id", "pyi-node",
                                           "--token", body["token"]], "agent")
        seen = fleet.wait_for_node("pyi-node", agent, started, 15)
        assert seen is not None, fleet.log("agent")
        print(f"\nnode live {seen:.1f} s after the one-file agent started")
    finally:
        fleet.close()
