"""The base dependencies, which pyproject.toml leaves to this file: every requirements file,
or with `pip install -C slim=1` the hub's only (build_backend/forge_build.py says why)."""
import os
from pathlib import Path

from setuptools import setup

REQUIREMENTS = Path(__file__).resolve().parent / "requirements"
FULL = ("hub", "agent", "desktop", "solvers")
SLIM = ("hub",)


def requirements(*names: str) -> list[str]:
    lines = []
    for name in names:
        for line in (REQUIREMENTS / f"{name}.txt").read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                lines.append(line)
    return lines


setup(install_requires=requirements(*(SLIM if os.environ.get("FORGE_BUILD_SLIM") == "1" else FULL)))
