"""`forge alerts`: alerts, rules, channels and maintenance windows."""
from __future__ import annotations

import argparse
import sys
import time

from ..client import HubClient
from .access import add_hub_args, admin_client, hub_url
from .errors import CliError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    al = sub.add_parser("alerts", help="alerts firing and past, rules, channels, maintenance windows")
    add_hub_args(al)
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


def alerts_client(args: argparse.Namespace, admin: bool) -> tuple[HubClient, str | None]:
    """Reads work without the admin secret (viewer routes); writes and channels need it."""
    if admin:
        return admin_client(args)
    try:
        return admin_client(args)
    except CliError:
        return HubClient(hub_url(args)), None


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
    client, secret = alerts_client(args, admin=False)
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
    client, secret = alerts_client(args, admin=False)
    for r in client.get("/api/alert-rules", token=secret)["rules"]:
        cond = "reboot" if r["metric"] == "reboot" else f"{r['metric']} {r['op']} {r['threshold']:g}"
        hold = f" for {r['for_s']:g} s" if r["for_s"] else ""
        chans = ",".join(map(str, r["channels"])) or "-"
        print(f"{r['id']:>4} {'on ' if r['enabled'] else 'off'} {r['severity']:<8} {r['name']:<24} {cond}{hold}  "
              f"nodes {','.join(r['nodes'])}  channels {chans}")
    return 0


def cmd_alerts_channels(args: argparse.Namespace) -> int:
    client, secret = alerts_client(args, admin=True)
    rows = client.get("/api/channels", token=secret)["channels"]
    if not rows:
        print("no channels yet: `forge alerts channels add URL`")
    for c in rows:
        status = f"last error: {c['last_error']}" if c["last_error"] else f"last sent {_when(c['last_sent_at'])}"
        print(f"{c['id']:>4} {c['name']:<20} {c['url']}  {status}")
    return 0


def cmd_alerts_channel_add(args: argparse.Namespace) -> int:
    client, secret = alerts_client(args, admin=True)
    name = args.name or args.url.split(":", 1)[0]
    c = client.post("/api/channels", {"name": name, "url": args.url}, token=secret)
    print(f"added channel {c['id']} ({c['name']}): {c['url']}")
    print(f"try it: forge alerts test {c['id']}")
    return 0


def cmd_alerts_test(args: argparse.Namespace) -> int:
    client, secret = alerts_client(args, admin=True)
    out = client.post(f"/api/channels/{args.id}/test", {}, token=secret)
    if out["ok"]:
        print(f"sent a test notification to channel {args.id}")
        return 0
    print(f"forge: channel {args.id} failed: {out['error']}", file=sys.stderr)
    return 1


def cmd_alerts_mute(args: argparse.Namespace) -> int:
    until = parse_until(args.until, time.time())
    client, secret = alerts_client(args, admin=True)
    client.post(f"/api/nodes/{args.node}/maintenance", {"until": until}, token=secret)
    if until is None:
        print(f"{args.node}: maintenance window ended; offline alerts are back on")
    else:
        print(f"{args.node}: no offline or reboot alerts until {_when(until)}")
    return 0
