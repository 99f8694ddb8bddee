"""Build inputs shared by the PyInstaller specs, the Inno Setup script and the Linux tarball.

The version is parsed from forge_contracts/__init__.py (never imported, so a
build needs none of the package's dependencies to read it).

    python installer/buildinfo.py version
    python installer/buildinfo.py iss --dist dist --out build/forge.iss
    python installer/buildinfo.py info-plist --out build/Info.plist
"""
from __future__ import annotations

import argparse
import plistlib
import re
from pathlib import Path, PureWindowsPath
from string import Template

INSTALLER = Path(__file__).resolve().parent
ROOT = INSTALLER.parent
BUNDLE_ID = "dev.forge.desktop"
CLI_NAME = "forge"
DESKTOP_NAME = "forge-desktop"
_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.M)


def read_version(root: Path = ROOT) -> str:
    source = root / "forge_contracts" / "__init__.py"
    match = _VERSION.search(source.read_text("utf-8"))
    if not match:
        raise ValueError(f"{source}: no __version__ = \"...\" line")
    return match.group(1)


def render_iss(version: str, dist_dir: str, output_dir: str, icon: str) -> str:
    """forge.iss with the version and the Windows folders (as Windows paths) filled in."""
    text = (INSTALLER / "windows" / "forge.iss").read_text("utf-8")
    return Template(text).substitute(
        version=version, dist_dir=str(PureWindowsPath(dist_dir)),
        output_dir=str(PureWindowsPath(output_dir)), icon=str(PureWindowsPath(icon)),
        cli_exe=f"{CLI_NAME}.exe", desktop_exe=f"{DESKTOP_NAME}.exe")


def info_plist(version: str) -> dict:
    """The macOS bundle's Info.plist keys (LSUIElement: a menu-bar app, no Dock icon)."""
    text = Template((INSTALLER / "macos" / "Info.plist").read_text("utf-8")).substitute(
        version=version, bundle_id=BUNDLE_ID, executable=DESKTOP_NAME)
    return plistlib.loads(text.encode("utf-8"))


def windows_version_info(version: str, name: str, description: str) -> str:
    """A PyInstaller version-resource file, so Windows shows the version in file properties."""
    numbers = [int(n) for n in re.findall(r"\d+", version)[:4]]
    numbers += [0] * (4 - len(numbers))
    strings = {"CompanyName": "Forge", "FileDescription": description, "FileVersion": version,
               "InternalName": name, "OriginalFilename": f"{name}.exe", "ProductName": "Forge",
               "ProductVersion": version}
    entries = ",\n".join(f"          StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return (f"VSVersionInfo(\n  ffi=FixedFileInfo(filevers={tuple(numbers)}, prodvers={tuple(numbers)}),\n"
            f"  kids=[\n    StringFileInfo([StringTable('040904B0', [\n{entries}])]),\n"
            f"    VarFileInfo([VarStruct('Translation', [1033, 1200])])\n  ]\n)\n")


def write_version_info(workpath: str, version: str, name: str, description: str) -> str:
    path = Path(workpath) / f"{name}-version.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(windows_version_info(version, name, description), "utf-8")
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description="Forge build inputs")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version")
    iss = sub.add_parser("iss")
    iss.add_argument("--dist", default="dist")
    iss.add_argument("--output-dir", default="dist")
    iss.add_argument("--icon", default=r"build\icons\forge.ico")
    iss.add_argument("--out", type=Path, required=True)
    plist = sub.add_parser("info-plist")
    plist.add_argument("--out", type=Path, required=True)
    opts = parser.parse_args()
    version = read_version()
    if opts.command == "version":
        print(version)
    elif opts.command == "iss":
        opts.out.parent.mkdir(parents=True, exist_ok=True)
        opts.out.write_text(render_iss(version, opts.dist, opts.output_dir, opts.icon), "utf-8")
    else:
        opts.out.parent.mkdir(parents=True, exist_ok=True)
        opts.out.write_bytes(plistlib.dumps(info_plist(version)))


if __name__ == "__main__":
    main()
