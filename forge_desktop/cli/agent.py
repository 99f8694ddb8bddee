"""`forge agent`: the headless agent (and its worker) in the foreground."""
from __future__ import annotations

import argparse
import time

from .. import __version__, paths
from ..client import HubClient
from ..settings import JOB_MODES, Settings, bearer_token, default_node_id
from .errors import CliError
from .extras import require, require_agent
from .service import agent_service_args, install_or_uninstall


def add_parsers(sub: argparse._SubParsersAction) -> None:
    ag = sub.add_parser("agent", help="run the headless agent (metrics, and jobs when idle)",
                        description="Sample this machine every second and push to the hub every 5 s; "
                                    "failed pushes are buffered on disk and sent later.")
    add_agent_args(ag)
    ag.add_argument("--install-service", action="store_true", help="install the agent as a service and exit")
    ag.add_argument("--uninstall-service", action="store_true", help="remove the agent service and exit")
    ag.add_argument("--system", action="store_true", help="with --install-service: a system-wide service")
    ag.add_argument("--health", action="store_true",
                    help="print the running agent's health in one line and exit: 0 healthy, 1 unhealthy "
                         "(a fault, or the node must rejoin), 2 no agent running (for a supervisor's health check)")
    ag.set_defaults(func=cmd_agent)


def add_agent_args(ag: argparse.ArgumentParser) -> None:
    ag.add_argument("--hub", help="hub URL (or CENTRAL_URL, or the saved settings)")
    ag.add_argument("--node-id", help="this machine's node id (or NODE_ID; default: saved, else host name)")
    ag.add_argument("--token", help="node token (or BEARER_TOKEN; default: the OS keyring)")
    ag.add_argument("--jobs", choices=JOB_MODES, help="when to take jobs: idle (desktops), always (servers), never")
    ag.add_argument("--push-interval", type=float, help="seconds between pushes (default 5)")
    ag.add_argument("--buffer-max-mb", type=float, help="offline buffer size limit in MB (default 50)")
    ag.add_argument("--max-cores", type=int, help="cores jobs may use (default: all but one)")


def resolve_agent(args: argparse.Namespace) -> tuple[Settings, str]:
    s = Settings.resolve(hub_url=args.hub, node_id=args.node_id, jobs=args.jobs, push_interval_s=args.push_interval,
                         buffer_max_bytes=int(args.buffer_max_mb * 1024 * 1024) if args.buffer_max_mb else None,
                         max_cores=args.max_cores)
    if not s.hub_url:
        raise CliError("no hub URL: pass --hub URL, set CENTRAL_URL, or run `forge join URL CODE` first")
    s.node_id = s.node_id or default_node_id()
    token = bearer_token(args.token)
    if not token:
        from ..credentials import load_token
        from ..client import normalize_url
        token = load_token(normalize_url(s.hub_url), s.node_id)
    if not token:
        raise CliError(missing_token_message(s.hub_url, s.node_id))
    return s, token


def missing_token_message(hub_url: str, node_id: str) -> str:
    """No token for this node: say which node this machine did join as, if any."""
    from ..client import normalize_url
    from ..credentials import load_token
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
    if args.health:
        return cmd_health(args)
    if args.install_service or args.uninstall_service:
        argv, env = agent_service_args(args)
        return install_or_uninstall("agent", args.uninstall_service, argv, args.system, env)
    require("agent", "forge agent")  # before the token lookup, which needs the keyring
    settings, token = resolve_agent(args)
    require_agent(settings.jobs, "forge agent")
    print(f"forge agent {__version__}: node {settings.node_id!r} -> {settings.hub_url} (jobs: {settings.jobs})",
          flush=True)
    run_agent(settings, token)
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """`forge agent --health`: the health file of this data folder's agent for the node
    (`--node-id`, NODE_ID, the saved one or the host name); needs no hub and no token."""
    from ..health import health_path, read_health
    node_id = Settings.resolve(node_id=args.node_id).node_id or default_node_id()
    verdict = read_health(health_path(paths.data_dir(), node_id), node_id)
    print(verdict.line, flush=True)
    return verdict.code


def run_agent(settings: Settings, token: str, then_stop=None) -> None:
    """The agent (and its worker, unless jobs are 'never') in the foreground until Ctrl-C/SIGTERM.
    `then_stop(timeout=...)` (forge up's hub) stops once the agent's final push is in, side by
    side with the worker, within the same budget."""
    import signal
    import threading
    from ..agent import Agent
    from ..health import health_path
    client = HubClient(settings.hub_url, token)
    agent = Agent(client, settings.node_id, paths.data_dir() / f"buffer-{settings.node_id}.ndjson",
                  push_interval_s=settings.push_interval_s, sample_interval_s=settings.sample_interval_s,
                  buffer_max_bytes=settings.buffer_max_bytes, echo=True,
                  health_path=health_path(paths.data_dir(), settings.node_id))
    worker = None
    if settings.jobs != "never":
        from ..worker import Worker, worker_options
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
