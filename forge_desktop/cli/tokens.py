"""`forge tokens`: node tokens and join codes (admin)."""
from __future__ import annotations

import argparse
import time

from .access import add_hub_args, admin_client


def add_parsers(sub: argparse._SubParsersAction) -> None:
    to = sub.add_parser("tokens", help="manage node tokens and join codes (admin)")
    add_hub_args(to)
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
