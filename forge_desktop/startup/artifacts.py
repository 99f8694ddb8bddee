"""What the installer writes, and how it is written and taken away again.

Two kinds of artifact exist: a file (a .desktop entry, a plist, a systemd unit,
an NSSM script) and, on Windows only, a registry value under HKEY_CURRENT_USER.
Registry access goes through the small `Registry` interface so that Windows
targets can be installed and tested on any machine.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence, Union


class InstallError(Exception):
    """A target that cannot be generated or written; the message says which and why."""


@dataclass(frozen=True)
class GeneratedFile:
    path: Path
    content: str
    mode: int = 0o644

    def describe(self) -> str:
        return f"{self.path} (mode {self.mode:o})"


@dataclass(frozen=True)
class RegistryValue:
    """A string value under HKEY_CURRENT_USER\\<key>, named <name>."""

    key: str
    name: str
    value: str

    def describe(self) -> str:
        return f"HKCU\\{self.key}\\{self.name} = {self.value}"


Artifact = Union[GeneratedFile, RegistryValue]


class Registry(Protocol):
    def set_value(self, key: str, name: str, value: str) -> None: ...

    def delete_value(self, key: str, name: str) -> bool:
        """Remove the value; False when it was not there."""
        ...


def _write_atomically(target: GeneratedFile) -> None:
    target.path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".forge-", dir=target.path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(target.content)
        os.chmod(tmp, target.mode)
        os.replace(tmp, target.path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def install(artifacts: Sequence[Artifact], registry: Registry | None = None) -> list[str]:
    """Write every artifact; answer one line per artifact saying what was written."""
    written = []
    for artifact in artifacts:
        if isinstance(artifact, GeneratedFile):
            _write_atomically(artifact)
        else:
            if registry is None:
                raise InstallError(f"{artifact.describe()}: no registry given (Windows only)")
            registry.set_value(artifact.key, artifact.name, artifact.value)
        written.append(artifact.describe())
    return written


def _prune_empty_parents(path: Path, stop_at: Path) -> None:
    """Remove directories left empty by a removal, strictly below `stop_at`."""
    parent = path.parent
    stop = stop_at.resolve()
    while parent.resolve() != stop and stop in parent.resolve().parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def remove(targets: Sequence[Path | RegistryValue], stop_at: Path | None,
           registry: Registry | None = None) -> list[str]:
    """Remove the given files and registry values; answer what was actually removed.

    Directories that the removal leaves empty are pruned up to `stop_at` (the
    home folder), so an install followed by an uninstall leaves the home as it
    was. With `stop_at=None` (system folders) no directory is touched.
    """
    removed = []
    for target in targets:
        if isinstance(target, RegistryValue):
            if registry is None:
                raise InstallError(f"{target.describe()}: no registry given (Windows only)")
            if registry.delete_value(target.key, target.name):
                removed.append(f"HKCU\\{target.key}\\{target.name}")
            continue
        if target.is_file() or target.is_symlink():
            target.unlink()
            removed.append(str(target))
            if stop_at is not None:
                _prune_empty_parents(target, stop_at)
    return removed
