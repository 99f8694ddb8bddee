"""The `forge` command: quickstart, hub, agent, desktop, join, tokens, jobs and alerts."""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from . import __version__, paths
from .client import HubClient, HubError, HubUnreachable, NotAForgeHub
from .install.artifacts import InstallError
from .onboarding import OnboardingError
from .settings import JOB_MODES, Settings, SettingsError, default_node_id


class CliError(Exception):
    """A readable message for the user; exits with status 2."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args) or 0
    except CliError as e:
        print(f"forge: {e}", file=sys.stderr)
        return 2
    except (HubUnreachable, NotAForgeHub, SettingsError, OnboardingError, InstallError) as e:
        print(f"forge: {e}", file=sys.stderr)
        return 2
    except HubError as e:
        print(f"forge: the hub refused: {e.message} (HTTP {e.status})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `forge jobs show 1 | head`: the reader left; no traceback, and none at exit either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


SUBCOMMANDS = ("up", "hub", "agent", "desktop", "join", "tokens", "jobs", "alerts")


def desktop_main() -> int:
    """`forge-desktop`: the tray app, or any `forge` sub-command when one is named (a
    forge-desktop build alone can then also run `agent`, `join`, ...)."""
    args = sys.argv[1:]
    if args and (args[0] in SUBCOMMANDS or args[0] in ("-h", "--help", "--version")):
        return main(args)
    return main(["desktop", *args])


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="forge", description="Forge: fleet monitor and idle-compute for your machines.")
    p.add_argument("--version", action="version", version=f"forge {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(title="commands", metavar="COMMAND")

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
    hub.add_argument("--viewer-token", default=os.environ.get("FORGE_VIEWER_TOKEN", ""),
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

    ag = sub.add_parser("agent", help="run the headless agent (metrics, and jobs when idle)",
                        description="Sample this machine every second and push to the hub every 5 s; "
                                    "failed pushes are buffered on disk and sent later.")
    add_agent_args(ag)
    ag.add_argument("--install-service", action="store_true", help="install the agent as a service and exit")
    ag.add_argument("--uninstall-service", action="store_true", help="remove the agent service and exit")
    ag.add_argument("--system", action="store_true", help="with --install-service: a system-wide service")
    ag.set_defaults(func=cmd_agent)

    de = sub.add_parser("desktop", help="the tray app (agent, worker, optional embedded hub)")
    de.add_argument("--hub", help="hub URL (default: from settings)")
    de.add_argument("--embedded-hub", action="store_true", help="run the hub inside this app")
    de.add_argument("--install-autostart", action="store_true", help="start the tray app at login, and exit")
    de.add_argument("--uninstall-autostart", action="store_true", help="remove the login item, and exit")
    de.set_defaults(func=cmd_desktop)

    jo = sub.add_parser("join", help="trade a one-time join code for a node token (kept in the keyring)")
    jo.add_argument("url", help="hub URL, e.g. http://hub.tailnet:3000")
    jo.add_argument("code", help="the join code from `forge tokens join-code` or the dashboard")
    jo.add_argument("--node-id", help="name for this machine (default: NODE_ID, else the name it joined "
                                      "as before, else the host name)")
    jo.add_argument("--new-node", action="store_true",
                    help="join as a new node even if this machine already joined this hub")
    jo.set_defaults(func=cmd_join)

    to = sub.add_parser("tokens", help="manage node tokens and join codes (admin)")
    to.add_argument("--hub", default=None, help="hub URL (default: CENTRAL_URL or http://127.0.0.1:3000)")
    to.add_argument("--admin-secret", default=None, help="default: ADMIN_SECRET or the local hub's saved secret")
    tsub = to.add_subparsers(title="actions", metavar="ACTION")
    c = tsub.add_parser("create", help="create a token for a node (shown once)")
    c.add_argument("node_id")
    c.set_defaults(func=cmd_tokens_create)
    tsub.add_parser("list", help="list tokens").set_defaults(func=cmd_tokens_list)
    r = tsub.add_parser("revoke", help="revoke a node's token")
    r.add_argument("node_id")
    r.set_defaults(func=cmd_tokens_revoke)
    jc = tsub.add_parser("join-code", help="create a one-time join code (printed alone on the last line)")
    jc.add_argument("--ttl", type=float, default=15.0, help="minutes the code stays valid (default 15)")
    jc.set_defaults(func=cmd_tokens_join_code)

    jb = sub.add_parser("jobs", help="submit and follow optimization jobs")
    jb.add_argument("--hub", default=None, help="hub URL (default: CENTRAL_URL or http://127.0.0.1:3000)")
    jb.add_argument("--admin-secret", default=None, help="default: ADMIN_SECRET or the local hub's saved secret")
    jsub = jb.add_subparsers(title="actions", metavar="ACTION")
    s = jsub.add_parser("submit", help="submit a job (or a batch / sweep) from a file")
    s.add_argument("file", type=Path, help="JSON job, JSON payload, JSPLIB instance, or MPS/LP model")
    s.add_argument("--type", help="job type when the file is a bare payload or model")
    s.add_argument("--batch", action="store_true", help="the file holds a list of jobs ({'jobs': [...]})")
    s.add_argument("--priority", type=int, default=0)
    s.add_argument("--wait", action="store_true", help="follow progress until the job ends")
    s.set_defaults(func=cmd_jobs_submit)
    ls = jsub.add_parser("list", help="list jobs")
    ls.add_argument("--status", choices=("pending", "running", "succeeded", "failed", "cancelled"))
    ls.add_argument("--type", dest="job_type")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=cmd_jobs_list)
    sh = jsub.add_parser("show", help="show one job with its result")
    sh.add_argument("id", type=int)
    sh.set_defaults(func=cmd_jobs_show)
    ca = jsub.add_parser("cancel", help="cancel a pending or running job, or every such job of a batch")
    ca.add_argument("id", type=int, nargs="?", help="the job's id")
    ca.add_argument("--batch", help="cancel every job of this batch that has not ended")
    ca.set_defaults(func=cmd_jobs_cancel)

    al = sub.add_parser("alerts", help="alerts firing and past, rules, channels, maintenance windows")
    al.add_argument("--hub", default=None, help="hub URL (default: CENTRAL_URL or http://127.0.0.1:3000)")
    al.add_argument("--admin-secret", default=None, help="default: ADMIN_SECRET or the local hub's saved secret")
    asub = al.add_subparsers(title="actions", metavar="ACTION")
    a = asub.add_parser("list", help="alerts, newest first (firing, paused and resolved)")
    a.add_argument("--state", choices=("firing", "paused", "resolved"))
    a.add_argument("--node")
    a.add_argument("--limit", type=int, default=20)
    a.set_defaults(func=cmd_alerts_list)
    asub.add_parser("rules", help="the alert rules").set_defaults(func=cmd_alerts_rules)
    ch = asub.add_parser("channels", help="notification channels (URLs masked); `channels add URL` adds one")
    ch.set_defaults(func=cmd_alerts_channels)
    chsub = ch.add_subparsers(title="channel actions", metavar="ACTION")
    chadd = chsub.add_parser("add", help="add an Apprise URL (ntfy://, discord://, mailto://, json://, ...)")
    chadd.add_argument("url")
    chadd.add_argument("--name", help="a name for it (default: the URL's scheme)")
    chadd.set_defaults(func=cmd_alerts_channel_add)
    te = asub.add_parser("test", help="send a test notification to a channel now")
    te.add_argument("id", type=int, help="channel id (see `forge alerts channels`)")
    te.set_defaults(func=cmd_alerts_test)
    mu = asub.add_parser("mute", help="expect a node offline until a time: no offline or reboot alert for it")
    mu.add_argument("node")
    mu.add_argument("--until", required=True,
                    help="2h, 90m, 3d, HH:MM (the next one), 2026-12-24T08:00, or 'off' to end the window")
    mu.set_defaults(func=cmd_alerts_mute)
    return p


def add_agent_args(ag: argparse.ArgumentParser) -> None:
    ag.add_argument("--hub", help="hub URL (or CENTRAL_URL, or the saved settings)")
    ag.add_argument("--node-id", help="this machine's node id (or NODE_ID; default: saved, else host name)")
    ag.add_argument("--token", help="node token (or BEARER_TOKEN; default: the OS keyring)")
    ag.add_argument("--jobs", choices=JOB_MODES, help="when to take jobs: idle (desktops), always (servers), never")
    ag.add_argument("--push-interval", type=float, help="seconds between pushes (default 5)")
    ag.add_argument("--buffer-max-mb", type=float, help="offline buffer size limit in MB (default 50)")
    ag.add_argument("--max-cores", type=int, help="cores jobs may use (default: all but one)")


# --- hub -----------------------------------------------------------------------------
def hub_config_from_args(args: argparse.Namespace):
    from hub.config import HubConfig
    from hub.server import ensure_admin_secret
    data_dir = args.data_dir or paths.hub_data_dir()
    secret = os.environ.get("ADMIN_SECRET", "")
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
def _store_place(url: str) -> str:
    """scheme://host:port/path of a store URL, without user, password or options."""
    from urllib.parse import urlsplit
    p = urlsplit(url)
    host = f"{p.hostname}:{p.port}" if p.port else (p.hostname or "")
    return f"{p.scheme}://{host}{p.path}"


def cmd_hub(args: argparse.Namespace) -> int:
    if args.install_service or args.uninstall_service:
        argv, env = hub_service_args(args)
        return _service("hub", args.uninstall_service, argv, args.system, env)
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
    settings = Settings.load()
    settings.hub_url, settings.node_id, settings.jobs = hub.url, node_id, args.jobs
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


# --- agent ---------------------------------------------------------------------------
def resolve_agent(args: argparse.Namespace) -> tuple[Settings, str]:
    s = Settings.load().apply_env()
    if args.hub:
        s.hub_url = args.hub
    if args.node_id:
        s.node_id = args.node_id
    if args.jobs:
        s.jobs = args.jobs
    if args.push_interval:
        s.push_interval_s = args.push_interval
    if args.buffer_max_mb:
        s.buffer_max_bytes = int(args.buffer_max_mb * 1024 * 1024)
    if args.max_cores:
        s.max_cores = args.max_cores
    if not s.hub_url:
        raise CliError("no hub URL: pass --hub URL, set CENTRAL_URL, or run `forge join URL CODE` first")
    s.node_id = s.node_id or default_node_id()
    s.validate()
    token = args.token or os.environ.get("BEARER_TOKEN")
    if not token:
        from .credentials import load_token
        from .client import normalize_url
        token = load_token(normalize_url(s.hub_url), s.node_id)
    if not token:
        raise CliError(missing_token_message(s.hub_url, s.node_id))
    return s, token


def missing_token_message(hub_url: str, node_id: str) -> str:
    """No token for this node: say which node this machine did join as, if any."""
    from .client import normalize_url
    from .credentials import load_token
    url = normalize_url(hub_url)
    saved = Settings.load()
    joined = saved.node_id if saved.node_id and normalize_url(saved.hub_url or "") == url else None
    if joined and joined != node_id and load_token(url, joined):
        return (f"no token for node {node_id!r} at {url}: this machine joined it as {joined!r}. Run as "
                f"{joined!r} (unset NODE_ID, drop --node-id), or join as {node_id!r} with "
                f"`forge join {url} CODE --node-id {node_id}`")
    return (f"no token for node {node_id!r} at {url}: pass --token, set BEARER_TOKEN, "
            f"or run `forge join {url} CODE`")


def cmd_agent(args: argparse.Namespace) -> int:
    if args.install_service or args.uninstall_service:
        argv, env = agent_service_args(args)
        return _service("agent", args.uninstall_service, argv, args.system, env)
    settings, token = resolve_agent(args)
    print(f"forge agent {__version__}: node {settings.node_id!r} -> {settings.hub_url} (jobs: {settings.jobs})",
          flush=True)
    run_agent(settings, token)
    return 0


def run_agent(settings: Settings, token: str, then_stop=None) -> None:
    """The agent (and its worker, unless jobs are 'never') in the foreground until Ctrl-C/SIGTERM.
    `then_stop(timeout=...)` (forge up's hub) stops once the agent's final push is in, side by
    side with the worker, within the same budget."""
    import signal
    import threading
    from .agent import Agent
    client = HubClient(settings.hub_url, token)
    agent = Agent(client, settings.node_id, paths.data_dir() / f"buffer-{settings.node_id}.ndjson",
                  push_interval_s=settings.push_interval_s, sample_interval_s=settings.sample_interval_s,
                  buffer_max_bytes=settings.buffer_max_bytes, echo=True)
    worker = None
    if settings.jobs != "never":
        from .worker import Worker, worker_options
        worker = Worker(client, settings.node_id, worker_options(settings), echo=True)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    agent.start()
    if worker:
        worker.start()
    try:
        while not stop.wait(0.5):
            if not agent.alive():
                raise CliError("the agent's sampler or pusher stopped unexpectedly; exiting so the "
                               "service manager restarts it")
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping…", flush=True)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the stop
        def agent_then(timeout: float) -> None:
            agent.stop(timeout)
            if then_stop:
                then_stop(timeout=timeout)
        stop_within(STOP_BUDGET_S, [agent_then, *([worker.stop] if worker else [])])


STOP_BUDGET_S = 2.0


def stop_within(budget_s: float, stops: list) -> None:
    """Run the stop functions side by side and wait at most `budget_s` for all of them: Ctrl-C
    ends the program within 3 s even while a worker's claim long-polls the hub."""
    import threading
    threads = [threading.Thread(target=f, kwargs={"timeout": budget_s}, daemon=True) for f in stops]
    for t in threads:
        t.start()
    deadline = time.monotonic() + budget_s
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))


def _service(kind: str, uninstall: bool, args: list[str], system: bool = False,
             env: dict[str, str] | None = None) -> int:
    """Install or remove a service; a failed systemctl/launchctl step exits non-zero."""
    from . import install
    scope = "system" if system else "user"
    if uninstall:
        install.uninstall_service(kind, scope=scope, check=True)
    else:
        install.install_service(kind, args, scope=scope, env=env or None, check=True)
    return 0


# --- desktop -------------------------------------------------------------------------
def cmd_desktop(args: argparse.Namespace) -> int:
    if args.install_autostart or args.uninstall_autostart:
        from . import install
        if args.uninstall_autostart:
            install.uninstall_autostart()
        else:
            install.install_autostart()
        return 0
    check_display()
    from .desktop import run_desktop
    return run_desktop(hub_url=args.hub, embedded_hub=args.embedded_hub)


def check_display() -> None:
    """On Linux/BSD, Qt aborts in its xcb plugin without a display: say what to do instead."""
    if sys.platform.startswith(("win", "darwin")) or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise CliError("no display: use `forge agent` on servers (the tray app needs a desktop session; "
                       "DISPLAY and WAYLAND_DISPLAY are unset)")


# --- join and tokens -----------------------------------------------------------------
def cmd_join(args: argparse.Namespace) -> int:
    """Join a hub. A machine that already joined it keeps its node id (and, while its token
    still works, its token: the code is not used); --new-node makes another node."""
    from .client import normalize_url
    from .onboarding import check_hub, check_token, join
    from .credentials import load_token
    url = normalize_url(args.url)
    wanted = args.node_id or os.environ.get("NODE_ID")
    if not args.new_node:
        saved = Settings.load()
        if not wanted and saved.node_id and normalize_url(saved.hub_url or "") == url:
            wanted = saved.node_id
        token = load_token(url, wanted) if wanted else None
        if token:
            client = check_hub(url)
            client.token = token
            try:
                check_token(client, wanted, token)
            except OnboardingError:
                pass  # refused (revoked): join again under the same name
            else:
                raise CliError(f"this machine already joined {url} as {wanted!r} and its token still works, "
                               "so the join code was not used; `forge agent` runs as that node. To join as "
                               "another node: --new-node")
    wanted = wanted or default_node_id()
    node_id, url = join(url, args.code, wanted)
    print(f"joined {url} as {node_id!r}; the token is in the OS keyring.")
    if node_id != wanted and not args.new_node:
        print(f"note: the hub already has a node {wanted!r} with a working token, so this machine is "
              f"{node_id!r}. To reuse the name, revoke the old token on the hub (`forge tokens revoke {wanted}`) "
              f"and join again with --node-id {wanted}.")
    print("next: `forge agent` (servers) or `forge desktop` (tray app) -- no token flag needed.")
    return 0


def admin_client(args: argparse.Namespace) -> tuple[HubClient, str]:
    url = args.hub or os.environ.get("CENTRAL_URL") or "http://127.0.0.1:3000"
    secret = args.admin_secret or os.environ.get("ADMIN_SECRET")
    if not secret:
        saved = paths.hub_data_dir() / "admin_secret"
        if saved.exists():
            secret = saved.read_text().strip()
    if not secret:
        raise CliError("no admin secret: pass --admin-secret or set ADMIN_SECRET")
    return HubClient(url), secret


def cmd_tokens_create(args: argparse.Namespace) -> int:
    client, secret = admin_client(args)
    body = client.post("/api/tokens", {"node_id": args.node_id}, token=secret)
    print(f"token for {body['node_id']} (shown once):")
    print(body["token"])
    return 0


def cmd_tokens_list(args: argparse.Namespace) -> int:
    client, secret = admin_client(args)
    rows = client.get("/api/tokens", token=secret)["tokens"]
    if not rows:
        print("no tokens yet")
    for t in rows:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(t["last_used"])) if t.get("last_used") else "never"
        print(f"{t['node_id']:<24} {'revoked' if t['revoked'] else 'active':<8} last used {used}")
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    client, secret = admin_client(args)
    client.request("DELETE", f"/api/tokens/{args.node_id}", token=secret)
    print(f"revoked the token of {args.node_id}")
    return 0


def cmd_tokens_join_code(args: argparse.Namespace) -> int:
    client, secret = admin_client(args)
    body = client.post("/api/tokens", {"join": True, "ttl_minutes": args.ttl}, token=secret)
    expires = time.strftime("%H:%M", time.localtime(body["expires_at"]))
    print(f"one-time join code, valid until {expires}. On the new machine run:")
    print(f"  forge join {client.url} {body['code']}")
    print(body["code"])
    return 0


# --- alerts -----------------------------------------------------------------------------
def _alerts_client(args: argparse.Namespace, admin: bool) -> tuple[HubClient, str | None]:
    """Reads work without the admin secret (viewer routes); writes and channels need it."""
    if admin:
        return admin_client(args)
    try:
        return admin_client(args)
    except CliError:
        return HubClient(args.hub or os.environ.get("CENTRAL_URL") or "http://127.0.0.1:3000"), None


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def parse_until(text: str, now: float) -> float | None:
    """A maintenance end time from the command line; None for 'off'. CliError if unreadable."""
    import datetime as dt
    import re
    t = text.strip().lower()
    if t in ("off", "none", "now", "end"):
        return None
    m = re.fullmatch(r"\+?(\d+(?:\.\d+)?)\s*(s|m|min|h|d)", t)
    if m:
        return now + float(m.group(1)) * {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}[m.group(2)]
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", t)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        base = dt.datetime.fromtimestamp(now)
        at = base.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0, microsecond=0)
        if at.timestamp() <= now:
            at += dt.timedelta(days=1)
        return at.timestamp()
    try:
        at = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(f"--until {text!r}: use 2h, 90m, 3d, HH:MM, an ISO time like 2026-12-24T08:00, or off") from None
    if at.timestamp() <= now:
        raise CliError(f"--until {text!r} is in the past")
    return at.timestamp()


def cmd_alerts_list(args: argparse.Namespace) -> int:
    client, secret = _alerts_client(args, admin=False)
    alerts = client.get("/api/alerts", token=secret,
                        query={"limit": args.limit, "state": args.state, "node": args.node})["alerts"]
    if not alerts:
        print("no alerts")
    for a in alerts:
        value = "" if a["value"] is None else f"{a['value']:.1f}"
        ended = f"resolved {_when(a['resolved_at'])}" if a["resolved_at"] else a["state"]
        print(f"{a['id']:>5} {a['severity']:<8} {a['node_id']:<20} {a['rule_name']:<24} {a['metric']} {value:>8}  "
              f"since {_when(a['started_at'])}  {ended}")
    return 0


def cmd_alerts_rules(args: argparse.Namespace) -> int:
    client, secret = _alerts_client(args, admin=False)
    for r in client.get("/api/alert-rules", token=secret)["rules"]:
        cond = "reboot" if r["metric"] == "reboot" else f"{r['metric']} {r['op']} {r['threshold']:g}"
        hold = f" for {r['for_s']:g} s" if r["for_s"] else ""
        chans = ",".join(map(str, r["channels"])) or "-"
        print(f"{r['id']:>4} {'on ' if r['enabled'] else 'off'} {r['severity']:<8} {r['name']:<24} {cond}{hold}  "
              f"nodes {','.join(r['nodes'])}  channels {chans}")
    return 0


def cmd_alerts_channels(args: argparse.Namespace) -> int:
    client, secret = _alerts_client(args, admin=True)
    rows = client.get("/api/channels", token=secret)["channels"]
    if not rows:
        print("no channels yet: `forge alerts channels add URL`")
    for c in rows:
        status = f"last error: {c['last_error']}" if c["last_error"] else f"last sent {_when(c['last_sent_at'])}"
        print(f"{c['id']:>4} {c['name']:<20} {c['url']}  {status}")
    return 0


def cmd_alerts_channel_add(args: argparse.Namespace) -> int:
    client, secret = _alerts_client(args, admin=True)
    name = args.name or args.url.split(":", 1)[0]
    c = client.post("/api/channels", {"name": name, "url": args.url}, token=secret)
    print(f"added channel {c['id']} ({c['name']}): {c['url']}")
    print(f"try it: forge alerts test {c['id']}")
    return 0


def cmd_alerts_test(args: argparse.Namespace) -> int:
    client, secret = _alerts_client(args, admin=True)
    out = client.post(f"/api/channels/{args.id}/test", {}, token=secret)
    if out["ok"]:
        print(f"sent a test notification to channel {args.id}")
        return 0
    print(f"forge: channel {args.id} failed: {out['error']}", file=sys.stderr)
    return 1


def cmd_alerts_mute(args: argparse.Namespace) -> int:
    until = parse_until(args.until, time.time())
    client, secret = _alerts_client(args, admin=True)
    client.post(f"/api/nodes/{args.node}/maintenance", {"until": until}, token=secret)
    if until is None:
        print(f"{args.node}: maintenance window ended; offline alerts are back on")
    else:
        print(f"{args.node}: no offline or reboot alerts until {_when(until)}")
    return 0


# --- jobs ------------------------------------------------------------------------------
def load_job_file(path: Path, job_type: str | None, batch: bool, priority: int) -> dict:
    """Turn a file into a POST /api/jobs body, or raise CliError saying what is wrong."""
    try:
        text = path.read_text()
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror}") from None
    looks_json = path.suffix.lower() == ".json" or text.lstrip()[:1] in ("{", "[")
    try:
        doc = json.loads(text)
    except ValueError as e:
        if looks_json:
            raise CliError(json_error(path, text, e)) from None
        doc = None
    if doc is None:
        if job_type == "jobshop" or (job_type is None and _looks_like_jsplib(text)):
            return _labelled({"type": "jobshop", "payload": {"jsplib": text}, "priority": priority},
                             _jsplib_name(text))
        if job_type == "mps" or (job_type is None and path.suffix.lower() in (".mps", ".lp")):
            fmt = "lp" if path.suffix.lower() == ".lp" else "mps"
            return _labelled({"type": "mps", "payload": {"model": text, "format": fmt}, "priority": priority},
                             _mps_name(text))
        if job_type:
            raise CliError(f"{path} is not JSON: a {job_type} job needs a JSON payload")
        raise CliError(f"{path} is not JSON, a JSPLIB instance or an .mps/.lp model; pass --type mps if it is "
                       "an MPS or LP model under another name")
    if batch or (isinstance(doc, dict) and ("jobs" in doc or "sweep" in doc)) or isinstance(doc, list):
        jobs = doc if isinstance(doc, list) else doc.get("jobs")
        if isinstance(doc, dict) and "sweep" in doc:
            return doc
        if isinstance(doc, dict) and job_type == "jobshop" and _is_jobshop_payload(doc):
            return _labelled({"type": "jobshop", "payload": doc, "priority": priority}, _json_name(doc))
        if not isinstance(jobs, list) or not jobs:
            raise CliError(f"{path}: a batch must be a list of jobs or {{'jobs': [...]}}")
        return {"jobs": [j if isinstance(j, dict) and "type" in j else
                         _labelled({"type": job_type, "payload": j}, _json_name(j)) for j in jobs]}
    if not isinstance(doc, dict):
        raise CliError(f"{path}: expected a JSON object")
    if "type" in doc and "payload" in doc:
        doc.setdefault("priority", priority)
        return _labelled(doc, _json_name(doc.get("payload")))
    if not job_type:
        if "known_optimum" in doc or "items" in doc:
            job_type = "prodplan"
        else:
            raise CliError(f"{path} is a bare payload; pass --type (jobshop, prodplan, mps)")
    return _labelled({"type": job_type, "payload": doc, "priority": priority}, _json_name(doc))


def json_error(path: Path, text: str, e: ValueError) -> str:
    """Where a JSON file breaks, and whether it simply ends too early."""
    if not isinstance(e, json.JSONDecodeError):
        return f"{path} is not valid JSON: {e}"
    truncated = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string")
    return (f"{path} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno}, character {e.pos})"
            + ("; the file ends early: is it truncated?" if truncated else ""))


def _is_jobshop_payload(doc: dict) -> bool:
    """A JSON job-shop payload ({"jobs": [[[machine, duration], ...], ...]}) rather than a batch."""
    jobs = doc.get("jobs")
    return isinstance(jobs, list) and all(isinstance(j, list) for j in jobs)


def _labelled(body: dict, name: str | None) -> dict:
    if name and not body.get("label"):
        body["label"] = name[:200]
    return body


def _json_name(doc: object) -> str | None:
    if isinstance(doc, dict):
        for key in ("name", "instance", "label"):
            if isinstance(doc.get(key), str) and doc[key].strip():
                return doc[key].strip()
    return None


def _jsplib_name(text: str) -> str | None:
    for line in text.splitlines()[:10]:
        words = line.lstrip("#+ ").split()
        if len(words) >= 2 and words[0].lower() == "instance":
            return words[1]
    return None


def _mps_name(text: str) -> str | None:
    for line in text.splitlines()[:20]:
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "NAME":
            return words[1]
    return None


def _looks_like_jsplib(text: str) -> bool:
    lines = [l.split() for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    return bool(lines) and len(lines[0]) == 2 and all(x.isdigit() for x in lines[0])


def cmd_jobs_submit(args: argparse.Namespace) -> int:
    body = load_job_file(args.file, args.type, args.batch, args.priority)
    client, secret = admin_client(args)
    answer = client.post("/api/jobs", body, token=secret)
    ids = answer.get("ids") or [answer["id"]]
    if len(ids) == 1 and "batch_id" not in answer:
        print(f"submitted job {ids[0]}")
    else:
        print(f"submitted {len(ids)} jobs (batch {answer.get('batch_id')}): ids {ids[0]}..{ids[-1]}")
    if args.wait:
        return wait_for(client, ids)
    return 0


def wait_for(client: HubClient, ids: list[int], poll_s: float = 1.0) -> int:
    """Follow jobs until they end, with one live line; exit status 0 only if all succeeded."""
    final = ("succeeded", "failed", "cancelled")
    t0 = time.time()
    width = max(40, shutil.get_terminal_size((101, 24)).columns - 1)
    while True:
        jobs = [client.get(f"/api/jobs/{i}") for i in ids]
        done = [j for j in jobs if j["status"] in final]
        if len(ids) == 1:
            line = progress_line(jobs[0], time.time() - t0)
        else:
            line = f"{len(done)}/{len(ids)} finished, {sum(j['status'] == 'running' for j in jobs)} running"
        reason = waiting_line(jobs)
        if reason:
            line = f"{line}  {reason}"
        if len(line) > width:  # one terminal line, or the carriage return cannot redraw it
            line = line[:width - 1] + "…"
        print("\r" + line.ljust(min(100, width)), end="", flush=True)
        if len(done) == len(ids):
            print()
            for j in jobs:
                print(summary_line(j))
            return 0 if all(j["status"] == "succeeded" for j in jobs) else 1
        time.sleep(poll_s)


def waiting_line(jobs: list[dict]) -> str | None:
    """Why the job waits (the hub's `waiting`), while none of them runs; for a batch, the first
    pending job's reason."""
    if any(j["status"] == "running" for j in jobs):
        return None
    pending = [j for j in jobs if j["status"] == "pending" and j.get("waiting")]
    return f"waiting: {pending[0]['waiting']}" if pending else None


def progress_line(job: dict, elapsed: float) -> str:
    """The live line. Once the job has ended its figures come from the result, so the line
    left on screen is never the stale last progress report."""
    p = dict(job.get("progress") or {})
    r = job.get("result") or {}
    if job["status"] == "succeeded" and isinstance(r, dict):
        final = r.get("makespan", r.get("objective"))
        p.update({k: v for k, v in (("incumbent", final), ("bound", r.get("bound")), ("gap", r.get("gap")))
                  if v is not None})
        p["percent"] = 100
    parts = [f"job {job['id']} {job['status']}"]
    if job.get("claimed_by"):
        parts.append(f"on {job['claimed_by']}")
    for key, label in (("incumbent", "best"), ("bound", "bound")):
        if isinstance(p.get(key), (int, float)):
            parts.append(f"{label}={p[key]:g}")
    if isinstance(p.get("gap"), (int, float)):
        parts.append(f"gap={format_gap(p['gap'])}")
    if isinstance(p.get("percent"), (int, float)):
        parts.append(f"{p['percent']:.0f}% done")
    parts.append(f"{elapsed:.0f}s")
    return "  ".join(parts)


def format_gap(gap: float) -> str:
    """A relative gap as a percentage readable at any size: 5.2 %, 0.31 %, 0.009 %, 0 %."""
    pct = 100 * gap
    if pct == 0:
        return "0 %"
    if abs(pct) >= 10:
        return f"{pct:.1f} %"
    if abs(pct) >= 0.1:
        return f"{pct:.2f} %"
    return f"{pct:.2g} %" if abs(pct) < 0.001 else f"{pct:.3f} %"


def summary_line(job: dict) -> str:
    """`job 1: succeeded  makespan 55 · optimal`: the summary the hub serves (forge_contracts)."""
    return f"job {job['id']}: {job['status']}  {job.get('summary') or ''}".rstrip()


def cmd_jobs_list(args: argparse.Namespace) -> int:
    client, _ = admin_client_optional(args)
    body = client.get("/api/jobs", query={"status": args.status, "type": args.job_type, "limit": args.limit})
    c = body["counts"]
    print("  ".join(f"{k}={v}" for k, v in c.items()))
    for j in body["jobs"]:
        print(f"{j['id']:>6}  {j['type']:<9} {j['status']:<10} {j.get('claimed_by') or '-':<16} "
              f"{(j.get('label') or '')[:40]:<40}  {j.get('progress_text') or j.get('summary') or ''}".rstrip())
    return 0


def admin_client_optional(args: argparse.Namespace) -> tuple[HubClient, str | None]:
    url = args.hub or os.environ.get("CENTRAL_URL") or "http://127.0.0.1:3000"
    return HubClient(url, os.environ.get("FORGE_VIEWER_TOKEN")), None


def cmd_jobs_show(args: argparse.Namespace) -> int:
    client, _ = admin_client_optional(args)
    job = client.get(f"/api/jobs/{args.id}")
    print(json.dumps(job, indent=2))
    return 0


def cmd_jobs_cancel(args: argparse.Namespace) -> int:
    if (args.id is None) == (args.batch is None):
        raise CliError("give a job id or --batch BATCH_ID (not both)")
    client, secret = admin_client(args)
    if args.batch is not None:
        ids = client.post(f"/api/batches/{args.batch}/cancel", {}, token=secret)["cancelled"]
        print(f"cancelled {len(ids)} job{'s' if len(ids) != 1 else ''} of batch {args.batch}"
              + (f": {', '.join(map(str, ids))}" if ids else " (every job had already ended)"))
        return 0
    client.post(f"/api/jobs/{args.id}/cancel", {}, token=secret)
    print(f"cancelled job {args.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
