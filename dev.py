#!/usr/bin/env python3
"""Set up and run Forge from a checkout, with nothing but Python >= 3.11 on the machine.

    python3 dev.py up      # .venv + Forge installed, then `forge up` (hub + this machine's agent)
    python3 dev.py test    # .venv + Forge with its test extras, then the whole test suite
    python3 dev.py test -m "not e2e"   # the fast tier only (no hub or agent process, browser or Qt)

`test` also installs Debian's chromium for the browser tests when it can (root with
apt-get); elsewhere those tests are skipped with a note. Extra arguments go to
`forge up` or to pytest (e.g. `python3 dev.py test -k hub -x`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("FORGE_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*cmd: str | os.PathLike, env: dict | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, env=env)


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Forge needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "-q", "-e", f".{extras}")


def ensure_chromium() -> None:
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run("apt-get", "update", "-q", env=env)
        run("apt-get", "install", "-y", "-q", "chromium", env=env)
    else:
        print("note: Debian's chromium is not installed, so the browser tests will be skipped "
              "(sudo apt-get install chromium)", flush=True)


def forward_ctrl_c(child: subprocess.Popen) -> int:
    """Wait for `forge up`; Ctrl-C reaches it too (same terminal), so let it stop cleanly
    instead of printing a KeyboardInterrupt traceback here."""
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("up", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "up":
        ensure_venv("")
        print(f"forge is installed in {VENV}; to run `forge` yourself (e.g. `forge tokens join-code`), "
              f"activate it first: . {VENV / 'bin' / 'activate'}" if os.name != "nt" else
              f"forge is installed in {VENV}; activate it first: {VENV / 'Scripts' / 'activate'}", flush=True)
        return forward_ctrl_c(subprocess.Popen([str(BIN / "forge"), "up", *rest], cwd=ROOT))
    ensure_venv("[test,build]")
    ensure_chromium()
    # PYTHONFAULTHANDLER: a crash in a C extension (Qt, a solver) prints every thread's
    # Python stack, even one after pytest's own handler has been removed at exit.
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1",
               PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring")
    return subprocess.call([str(PY), "-m", "pytest", "-q", *rest], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
