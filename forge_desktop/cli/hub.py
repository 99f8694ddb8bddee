"""`forge up` (a hub and an agent on this machine) and `forge hub`."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .. import __version__, paths
from ..client import HubClient
from ..settings import JOB_MODES, Settings, admin_secret, default_node_id, viewer_token
from .agent import run_agent
from .errors import CliError
from .extras import require_agent
from .service import hub_service_args, install_or_uninstall


def add_parsers(sub: argparse._SubParsersAction) -> None:
    up = sub.add_parser("up", help="quickstart: a hub and a local agent on this machine",
                        description="Start a hub on this machine (SQLite in the data folder, no other service) "
                                    "and an agent reporting to it; prints the dashboard URL and the admin secret.")
    up.add_argument("--port", type=int, default=3000)
    up.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for your "
                         "network, or keep it and use `tailscale serve`)")
    up.add_argument("--jobs", choices=JOB_MODES, default="idle", help="when the local worker takes jobs")
    up.set_defaults(func=cmd_up)

    hub = sub.add_parser("hub", help="run the hub (API, dashboard, job queue)",
                         description="Run the hub. Prints 'listening on http://HOST:PORT' once it accepts "
                                     "connections. ADMIN_SECRET comes from the environment or is generated "
                                     "on first start and saved (0600) in the data folder.")
    hub.add_argument("--host", default="0.0.0.0")
    hub.add_argument("--port", type=int, default=3000)
    hub.add_argument("--data-dir", type=Path, default=None, help="default: the platform data folder")
    hub.add_argument("--store", default=None, metavar="URL",
                     help="where the hub keeps its data: sqlite:////path/forge.db (default: forge.db in the data "
                          "folder) or postgresql://user:pass@host:port/db, which several hubs may share")
    hub.add_argument("--viewer-token", default=viewer_token(),
                     help="require this token for the dashboard and fleet API")
    hub.add_argument("--downloads", type=Path, default=None,
                     help="folder of agent builds offered on the dashboard's 'Add a machine' page")
    hub.add_argument("--tls-cert", type=Path, default=None, help="PEM certificate: serve HTTPS (with --tls-key)")
    hub.add_argument("--tls-key", type=Path, default=None, help="PEM private key for --tls-cert")
    hub.add_argument("--allow-test-jobs", action="store_true", help=argparse.SUPPRESS)
    hub.add_argument("--install-service", action="store_true", help="install the hub as a service and exit")
    hub.add_argument("--uninstall-service", action="store_true", help="remove the hub service and exit")
    hub.add_argument("--system", action="store_true", help="with --install-service: a system-wide service")
    hub.add_argument("--export", metavar="NODE", help="print NODE's stored samples as NDJSON and exit")
    hub.add_argument("--since", default="48h", help="with --export: Unix seconds, ISO time or an age (default 48h)")
    hub.add_argument("--until", default=None, help="with --export: as --since (default: now)")
    hub.add_argument("--resolution", choices=("1s", "1m", "1h"), default="1s", help="with --export (default 1s)")
    hub.set_defaults(func=cmd_hub)


def hub_config_from_args(args: argparse.Namespace):
    from hub.config import HubConfig
    from hub.server import ensure_admin_secret
    data_dir = args.data_dir or paths.hub_data_dir()
    secret = admin_secret() or ""
    created = False
    if not secret:
        secret, created = ensure_admin_secret(data_dir)
    cfg = HubConfig.from_env(data_dir=Path(data_dir), host=args.host, port=args.port, admin_secret=secret,
                             viewer_token=getattr(args, "viewer_token", "") or None,
                             allow_test_jobs=True if getattr(args, "allow_test_jobs", False) else None,
                             agent_downloads_dir=getattr(args, "downloads", None),
                             store_url=getattr(args, "store", None),
                             tls_cert=getattr(args, "tls_cert", None), tls_key=getattr(args, "tls_key", None))
    return cfg, created


def check_port_free(host: str, port: int) -> None:
    """A clear one-line error for a busy port, before the hub starts (aiohttp would end in a
    traceback and "Task was destroyed" lines)."""
    import socket
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the hub binds
        try:
            sock.bind((host, port))
        except OSError as e:
            import errno
            if e.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
                raise CliError(f"port {port} is already in use on {host} (another forge hub?); "
                               f"pick another with --port, e.g. --port {port + 1}") from None
            raise CliError(f"cannot listen on {host}:{port}: {e.strerror}") from None


def _store_place(url: str) -> str:
    """scheme://host:port/path of a store URL, without user, password or options."""
    from urllib.parse import urlsplit
    p = urlsplit(url)
    host = f"{p.hostname}:{p.port}" if p.port else (p.hostname or "")
    return f"{p.scheme}://{host}{p.path}"


def cmd_hub(args: argparse.Namespace) -> int:
    if args.install_service or args.uninstall_service:
        argv, env = hub_service_args(args)
        return install_or_uninstall("hub", args.uninstall_service, argv, args.system, env)
    from hub.server import serve
    from hub.store import BACKENDS
    if args.store and args.store.split(":", 1)[0].split("+", 1)[0].lower() not in BACKENDS:
        print(f"forge hub: --store {args.store.split('@')[-1]!r} is not a store URL: use sqlite:////path/forge.db "
              "or postgresql://…", file=sys.stderr)
        return 2
    if args.export:
        return _export(args)
    check_port_free(args.host, args.port)
    cfg, created = hub_config_from_args(args)
    if created:
        print(f"admin secret (saved to {Path(cfg.data_dir) / 'admin_secret'}, shown once):\n  {cfg.admin_secret}")
    from hub.store import StoreUrlError
    where = _store_place(cfg.store_url) if cfg.store_url else cfg.data_dir
    print(f"forge hub {__version__}: data in {where}", flush=True)
    try:
        serve(cfg, announce=lambda line: print(line, flush=True))
    except StoreUrlError as e:
        print(f"forge hub: {e}", file=sys.stderr)
        return 1
    return 0


def _export(args: argparse.Namespace) -> int:
    import asyncio

    from hub.config import HubConfig
    from hub.export import export, parse_time
    now = time.time()
    try:
        since = parse_time(args.since, now)
        until = parse_time(args.until, now) if args.until else now
    except ValueError as e:
        raise CliError(f"forge hub --export: {e}") from None
    cfg = HubConfig.from_env(data_dir=Path(args.data_dir or paths.hub_data_dir()), store_url=args.store)
    try:
        n = asyncio.run(export(cfg.resolved_store_url, args.export, since=since, until=until,
                               resolution=args.resolution))
    except LookupError as e:
        raise CliError(f"forge hub --export: {e.args[0]}") from None
    print(f"exported {n} samples of {args.export}", file=sys.stderr)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from hub.server import EmbeddedHub
    require_agent(args.jobs, "forge up (a hub and this machine's agent)")
    args.data_dir, args.viewer_token = None, ""
    check_port_free(args.host, args.port)
    cfg, _ = hub_config_from_args(args)
    hub = EmbeddedHub(cfg)
    hub.start()
    node_id = default_node_id()
    client = HubClient(hub.url)
    token = client.post("/api/tokens", {"node_id": node_id}, token=cfg.admin_secret)["token"]
    print(f"Forge {__version__} is up.")
    print(f"  dashboard:    {hub.url}/")
    print(f"  admin secret: {cfg.admin_secret}  (saved in {cfg.data_dir})")
    print(f"  this machine reports as {node_id!r}; Ctrl-C stops both.")
    for line in add_machines_hint(args.host, args.port, client, cfg.admin_secret):
        print(line)
    sys.stdout.flush()
    settings = Settings.resolve(hub_url=hub.url, node_id=node_id, jobs=args.jobs)
    stopped = []

    def stop_hub(timeout: float) -> None:
        stopped.append(True)
        hub.stop(timeout=timeout)
    try:
        run_agent(settings, token, then_stop=stop_hub)
    finally:
        if not stopped:  # the agent failed before its stop ran
            hub.stop(timeout=2)
    return 0


def add_machines_hint(host: str, port: int, client: HubClient, admin_secret: str) -> list[str]:
    """How to add machines: the exact `forge join` command (with a fresh join code) when the
    hub listens beyond this machine, else how to open it first."""
    import socket
    if host in ("127.0.0.1", "localhost", "::1"):
        return ["  only this machine can reach it (it listens on 127.0.0.1). To add other machines, restart",
                f"  with `forge up --host 0.0.0.0` (your network) or run `tailscale serve {port}` (your tailnet);",
                "  then `forge tokens join-code` here prints the `forge join` command to run on each."]
    reach = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    body = client.post("/api/tokens", {"join": True}, token=admin_secret)
    expires = time.strftime("%H:%M", time.localtime(body["expires_at"]))
    return ["  add a machine: install Forge there and run (join code valid until "
            f"{expires}; make more with `forge tokens join-code`):",
            f"    forge join http://{reach}:{port} {body['code']} && forge agent"]
