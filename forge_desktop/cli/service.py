"""`--install-service` / `--uninstall-service`: the command line and environment an
installed hub or agent service runs with."""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def hub_service_args(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """`forge hub` flags and environment for the installed service: every flag given here,
    paths made absolute; the viewer token goes in the environment, not on the command line."""
    argv = ["hub", "--host", args.host, "--port", str(args.port)]
    if args.data_dir:
        argv += ["--data-dir", str(Path(args.data_dir).expanduser().resolve())]
    if args.downloads:
        argv += ["--downloads", str(Path(args.downloads).expanduser().resolve())]
    if args.allow_test_jobs:
        argv.append("--allow-test-jobs")
    env = _kept_env(("FORGE_DATA_DIR",), prefixes=("FORGE_HUB_",))
    if args.viewer_token:
        env["FORGE_VIEWER_TOKEN"] = args.viewer_token
    return argv, env


def agent_service_args(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """`forge agent` flags and environment for the installed service (the data folder, hub
    and node the agent uses now); a token given here goes in the environment."""
    argv = ["agent"]
    for flag, value in (("--hub", args.hub), ("--node-id", args.node_id), ("--jobs", args.jobs),
                        ("--push-interval", args.push_interval), ("--buffer-max-mb", args.buffer_max_mb),
                        ("--max-cores", args.max_cores)):
        if value:
            argv += [flag, str(value)]
    env = _kept_env(("FORGE_DATA_DIR", "CENTRAL_URL", "NODE_ID", "PYTHON_KEYRING_BACKEND", "FORGE_WORKER_TYPES"))
    if args.token:
        env["BEARER_TOKEN"] = args.token
    return argv, env


def _kept_env(names: tuple[str, ...], prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if v and (k in names or k.startswith(prefixes or ("\0",)))}
    if env.get("FORGE_DATA_DIR"):
        env["FORGE_DATA_DIR"] = str(Path(env["FORGE_DATA_DIR"]).expanduser().resolve())
    return env


def install_or_uninstall(kind: str, uninstall: bool, args: list[str], system: bool = False,
                        env: dict[str, str] | None = None) -> int:
    """Install or remove a service; a failed systemctl/launchctl step exits non-zero."""
    from .. import startup
    scope = "system" if system else "user"
    if uninstall:
        startup.uninstall_service(kind, scope=scope, check=True)
    else:
        startup.install_service(kind, args, scope=scope, env=env or None, check=True)
    return 0
