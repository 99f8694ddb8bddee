"""The `forge` command: quickstart, hub, agent, desktop, join, tokens, jobs and alerts.

One module per command group; each adds its sub-commands with `add_parsers(sub)`."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from .. import __version__
from ..client import HubError, HubUnreachable, NotAForgeHub
from ..startup.artifacts import InstallError
from ..onboarding import OnboardingError
from ..settings import SettingsError
from . import agent, alerts, desktop, hub, jobs, join, tokens
from .errors import CliError

__all__ = ["CliError", "build_parser", "desktop_main", "main"]


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
    for group in (hub, agent, desktop, join, tokens, jobs, alerts):
        group.add_parsers(sub)
    return p
