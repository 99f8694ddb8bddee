"""What each command needs beyond the hub's dependencies, and the message when a slim install
(`pip install -C slim=1`, README.md "Install") left it out."""
from __future__ import annotations

import importlib.util
import sys

from .errors import CliError

# extra -> the modules whose absence says it is not installed (pyproject.toml's extras)
EXTRAS: dict[str, tuple[str, ...]] = {
    "agent": ("psutil", "keyring"),
    "worker": ("psutil", "keyring", "ortools", "highspy"),
    "desktop": ("psutil", "keyring", "ortools", "highspy", "PySide6", "pyqtgraph"),
}


def missing(extra: str) -> list[str]:
    return [name for name in EXTRAS[extra] if not _installed(name)]


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a finder that refuses it, or a broken module
        return False


def require(extra: str, what: str, otherwise: str = "") -> None:
    """Raise a CliError naming the extra to install when any of its modules is absent."""
    absent = missing(extra)
    if absent and getattr(sys, "frozen", False):  # a one-file build: `forge` has no Qt, forge-desktop has
        raise CliError(f"{what}: this build has no {', '.join(absent)}; the forge-desktop build has everything")
    if absent:
        raise CliError(f"{what} needs the {extra} extra, and this install lacks {', '.join(absent)}: "
                       f"pip install -C slim=1 \".[{extra}]\" in Forge's checkout (or a plain "
                       f"`pip install .` for everything){otherwise}")


def require_agent(jobs: str, what: str) -> None:
    """An agent needs the collector; one that takes jobs needs the solvers too."""
    require("agent", what)
    if jobs != "never":
        require("worker", f"{what} with --jobs {jobs}", otherwise=", or run it with --jobs never")
