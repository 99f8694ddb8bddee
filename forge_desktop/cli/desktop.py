"""`forge desktop`: the tray app, and its login item."""
from __future__ import annotations

import argparse
import os
import sys

from .errors import CliError
from .extras import require


def add_parsers(sub: argparse._SubParsersAction) -> None:
    de = sub.add_parser("desktop", help="the tray app (agent, worker, optional embedded hub)")
    de.add_argument("--hub", help="hub URL (default: from settings)")
    de.add_argument("--embedded-hub", action="store_true", help="run the hub inside this app")
    de.add_argument("--install-autostart", action="store_true", help="start the tray app at login, and exit")
    de.add_argument("--uninstall-autostart", action="store_true", help="remove the login item, and exit")
    de.set_defaults(func=cmd_desktop)


def cmd_desktop(args: argparse.Namespace) -> int:
    if args.install_autostart or args.uninstall_autostart:
        from .. import startup
        if args.uninstall_autostart:
            startup.uninstall_autostart()
        else:
            startup.install_autostart()
        return 0
    require("desktop", "forge desktop (the tray app)")
    check_display()
    from ..desktop import run_desktop
    return run_desktop(hub_url=args.hub, embedded_hub=args.embedded_hub)


def check_display() -> None:
    """On Linux/BSD, Qt aborts in its xcb plugin without a display: say what to do instead."""
    if sys.platform.startswith(("win", "darwin")) or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise CliError("no display: use `forge agent` on servers (the tray app needs a desktop session; "
                       "DISPLAY and WAYLAND_DISPLAY are unset)")
