"""A hub-only or agent-only machine: Qt, OR-Tools and HiGHS not installed.

Two ways. The first tests run in the suite's venv with tests/fixtures/import_blocker on
PYTHONPATH, which makes those packages unimportable and logs every attempt (even one
somebody catches), so they see both "it works without them" and "it never tried to load
them". The last two install a copy of the checkout into a fresh venv the way README.md
says (`pip install -C slim=1 .`, then `.[agent]`, from pip's cache), so they see what the
package metadata really pulls in and that `pip check` finds nothing missing.
"""
from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, LiveHub, free_port, http, wait_until

BLOCKER = Path(__file__).resolve().parent / "fixtures" / "import_blocker"
DESKTOP_ONLY = "PySide6,shiboken6,pyqtgraph,ortools,highspy"  # numpy is the hub's too (the block codec)
FT06 = (FIXTURES / "jsplib" / "instances" / "ft06").read_text()


def blocked(extra: str = "") -> dict:
    return {"PYTHONPATH": str(BLOCKER), "FORGE_BLOCK_IMPORTS": ",".join(filter(None, [DESKTOP_ONLY, extra]))}


def test_hub_runs_and_serves_jobs_without_qt_or_solvers(live_hub):
    hub = live_hub(env=blocked("forge_desktop.solvers,forge_desktop.ui"))
    st, body = http("POST", hub.url + "/api/jobs", {"type": "jobshop", "payload": {"jsplib": FT06}}, token=hub.admin)
    assert st == 201, body
    st, body = http("POST", hub.url + "/api/jobs", {"type": "jobshop", "payload": {"jobs": [[[9, 1]]],
                                                                                   "machines": 2}}, token=hub.admin)
    assert st == 400 and body["error"] == "invalid_payload" and "payload.jobs[0][0]" in body["message"]
    tok = hub.token("w")
    st, claimed = http("POST", hub.url + "/api/jobs/claim", {"types": ["jobshop"]}, token=tok)
    assert st == 200 and claimed["job"]["payload"]["machines"] == 6
    st, _ = http("POST", f"{hub.url}/api/jobs/{claimed['job']['id']}/result", token=tok, body={
        "attempt": 1, "result": {"makespan": 55, "optimal": True, "lower_bound": 55, "status": "optimal"}})
    assert st == 200
    assert hub.job(claimed["job"]["id"])["summary"] == "makespan 55 · optimal"
    st, meta = http("GET", hub.url + "/api/meta")
    assert st == 200 and {t["name"] for t in meta["job_types"]} == {"jobshop", "prodplan", "mps"}
    hub.stop_hub()
    assert "forge-blocked-import" not in hub.log("hub"), hub.log("hub")


def test_agent_pushes_samples_without_qt_or_solvers(live_hub):
    hub = live_hub()
    agent = hub.spawn("agent-plain", hub.forge("agent", "--hub", hub.url, "--node-id", "plain", "--token",
                                               hub.token("plain"), "--jobs", "never"),
                      env=dict(hub.env, **blocked()))
    wait_until(lambda: hub.fleet().get("plain", {}).get("last_sample_ts", 0) > time.time() - 5, 30,
               what=f"samples from the agent (log: {hub.log('agent-plain')})")
    assert agent.poll() is None
    hub.stop("agent-plain")
    assert "forge-blocked-import" not in hub.log("agent-plain"), hub.log("agent-plain")


def test_commands_name_the_extra_an_install_lacks(tmp_path):
    """The suite's venv with Qt and the solvers blocked: the CLI says what to install, no traceback
    (each check runs before anything listens or connects, so no hub is needed)."""
    env = dict(LiveHub(tmp_path).env, **blocked())
    run = lambda *args: subprocess.run(LiveHub(tmp_path).forge(*args), env=env, capture_output=True, text=True,
                                       timeout=60, cwd=str(tmp_path))
    worker = run("agent", "--hub", "http://127.0.0.1:9", "--node-id", "w", "--token", "t", "--jobs", "always")
    assert worker.returncode == 2, worker.stdout + worker.stderr
    assert "forge agent with --jobs always needs the worker extra" in worker.stderr
    assert "ortools, highspy" in worker.stderr and '".[worker]"' in worker.stderr and "--jobs never" in worker.stderr
    desktop = run("desktop")
    assert desktop.returncode == 2, desktop.stdout + desktop.stderr
    assert "forge desktop (the tray app) needs the desktop extra" in desktop.stderr and "PySide6" in desktop.stderr
    up = run("up", "--port", str(free_port()))
    assert up.returncode == 2 and "forge up (a hub and this machine's agent) with --jobs idle" in up.stderr, up.stderr
    for out in (worker, desktop, up):
        assert "Traceback" not in out.stderr, out.stderr


# --- a real slim install ------------------------------------------------------------------

SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "build_backend", "requirements",
           "forge_desktop", "hub", "forge_contracts")
LEFT_OUT = ("PySide6", "shiboken6", "pyqtgraph", "ortools", "highspy")


class SlimVenv:
    """A venv without pip of its own: the suite's pip installs into it (`pip --python`), which
    saves the minute ensurepip takes on a loaded machine."""

    def __init__(self, root: Path):
        self.root = root
        self.python = root / "bin" / "python"
        venv.EnvBuilder(with_pip=False).create(root)

    def pip(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pip", "--python", str(self.python), *args],
                              capture_output=True, text=True, timeout=timeout)

    def install(self, requirement: str, constraints: Path) -> None:
        done = self.pip("install", "-q", "--no-compile", "-c", str(constraints), requirement)
        assert done.returncode == 0, done.stdout + done.stderr

    def absent(self, modules: tuple[str, ...]) -> list[str]:
        code = "import importlib.util, sys; print(','.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
        out = subprocess.run([str(self.python), "-c", code, *modules], capture_output=True, text=True, check=True)
        return out.stdout.strip().split(",") if out.stdout.strip() else []

    def forge(self, *args: str, env: dict) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.python), "-P", "-m", "forge_desktop.cli", *args], env=env,
                              capture_output=True, text=True, timeout=60)


class SlimHub(LiveHub):
    """LiveHub whose `forge` processes are the slim venv's."""

    def __init__(self, home: Path, slim: SlimVenv):
        self.slim = slim
        super().__init__(home)
        self.env.pop("PYTHONPATH", None)
        self.env.pop("VIRTUAL_ENV", None)

    def forge(self, *args: str) -> list[str]:
        return [str(self.slim.python), "-P", "-m", "forge_desktop.cli", *args]


@pytest.fixture(scope="module")
def slim(tmp_path_factory) -> tuple[SlimVenv, Path]:
    """A fresh venv with the hub-only install done, and the wheel it came from: built once with
    `pip wheel -C slim=1` (the hooks `pip install -C slim=1 .` runs) from a copy of the checkout,
    since pip builds in the source tree and the checkout's egg-info and build/ must stay as they are."""
    base = tmp_path_factory.mktemp("slim")
    src = base / "src"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-C", "slim=1",
                            "-w", str(base / "wheel"), str(src)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (base / "wheel").glob("forge_monitor-*.whl")
    env = SlimVenv(base / "venv")
    env.install(str(wheel), suite_versions(base / "constraints.txt"))
    return env, wheel


def suite_versions(path: Path) -> Path:
    """The versions this suite's venv holds, as pip constraints: the slim venv gets the same
    wheels, which pip has cached, instead of whatever the index got since."""
    pins = {d.metadata["Name"].lower(): d.version for d in importlib.metadata.distributions()
            if d.metadata["Name"] and d.metadata["Name"].lower() != "forge-monitor"}
    path.write_text("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))
    return path


@pytest.fixture(scope="module")
def slim_hub(slim, tmp_path_factory):
    """One hub from the slim venv for both tests (the agent extra is installed beside it)."""
    hub = SlimHub(tmp_path_factory.mktemp("slim-home"), slim[0])
    try:
        hub.start_hub()
        yield hub
    finally:
        hub.close()


@pytest.mark.slow
def test_slim_install_is_the_hub_alone_and_pip_check_is_clean(slim, slim_hub):
    env, _ = slim
    assert env.absent(LEFT_OUT + ("psutil", "keyring")) == list(LEFT_OUT + ("psutil", "keyring"))
    assert env.absent(("aiohttp", "msgspec", "numpy", "zstandard", "psycopg")) == []
    check = env.pip("check")
    assert check.returncode == 0 and "No broken requirements" in check.stdout, check.stdout + check.stderr
    st, body = http("POST", slim_hub.url + "/api/jobs", {"type": "jobshop", "payload": {"jsplib": FT06}},
                    token=slim_hub.admin)
    assert st == 201, body
    agent = env.forge("agent", "--hub", slim_hub.url, "--token", "t", "--jobs", "never", env=slim_hub.env)
    assert agent.returncode == 2, agent.stdout + agent.stderr
    assert "forge agent needs the agent extra" in agent.stderr and "psutil" in agent.stderr
    assert '".[agent]"' in agent.stderr and "Traceback" not in agent.stderr
    join = env.forge("join", slim_hub.url, "ABCD-EFGH", env=slim_hub.env)
    assert join.returncode == 2 and "forge join (the token goes to the OS keyring) needs the agent extra" \
        in join.stderr and "Traceback" not in join.stderr, join.stdout + join.stderr


@pytest.mark.slow
def test_agent_extra_adds_the_collector_but_not_qt_or_solvers(slim, slim_hub):
    env, wheel = slim
    env.install(f"{wheel}[agent]", wheel.parent.parent / "constraints.txt")
    assert env.absent(LEFT_OUT + ("psutil", "keyring")) == list(LEFT_OUT)
    check = env.pip("check")
    assert check.returncode == 0 and "No broken requirements" in check.stdout, check.stdout + check.stderr
    hub = slim_hub
    hub.start_agent("slim", "--jobs", "never")
    wait_until(lambda: hub.fleet().get("slim", {}).get("last_sample_ts", 0) > time.time() - 5, 30,
               what=f"samples from the slim agent (log: {hub.log('agent-slim')})")
    worker = env.forge("agent", "--hub", hub.url, "--node-id", "w", "--token", hub.token("w"),
                       "--jobs", "idle", env=hub.env)
    assert worker.returncode == 2, worker.stdout + worker.stderr
    assert "forge agent with --jobs idle needs the worker extra" in worker.stderr
    assert "ortools" in worker.stderr and "--jobs never" in worker.stderr and "Traceback" not in worker.stderr
    desktop = env.forge("desktop", env=hub.env)
    assert desktop.returncode == 2 and "forge desktop (the tray app) needs the desktop extra" in desktop.stderr
    assert "PySide6" in desktop.stderr and '".[desktop]"' in desktop.stderr, desktop.stderr
    hub.stop("agent-slim")
