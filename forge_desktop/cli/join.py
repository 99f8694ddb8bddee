"""`forge join URL CODE`: trade a one-time join code for a node token."""
from __future__ import annotations

import argparse

from ..onboarding import OnboardingError
from ..settings import Settings, default_node_id
from .errors import CliError
from .extras import require


def add_parsers(sub: argparse._SubParsersAction) -> None:
    jo = sub.add_parser("join", help="trade a one-time join code for a node token (kept in the keyring)")
    jo.add_argument("url", help="hub URL, e.g. http://hub.tailnet:3000")
    jo.add_argument("code", help="the join code from `forge tokens join-code` or the dashboard")
    jo.add_argument("--node-id", help="name for this machine (default: NODE_ID, else the name it joined "
                                      "as before, else the host name)")
    jo.add_argument("--new-node", action="store_true",
                    help="join as a new node even if this machine already joined this hub")
    jo.set_defaults(func=cmd_join)


def cmd_join(args: argparse.Namespace) -> int:
    """Join a hub. A machine that already joined it keeps its node id (and, while its token
    still works, its token: the code is not used); --new-node makes another node."""
    require("agent", "forge join (the token goes to the OS keyring)")
    from ..client import normalize_url
    from ..onboarding import check_hub, check_token, join
    from ..credentials import load_token
    url = normalize_url(args.url)
    wanted = args.node_id or Settings().apply_env().node_id or None
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
