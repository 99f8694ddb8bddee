"""How the admin commands (tokens, jobs, alerts) reach a hub: its URL and the admin secret."""
from __future__ import annotations

import argparse

from .. import paths
from ..client import HubClient
from ..settings import admin_hub_url, admin_secret, viewer_token
from .errors import CliError


def add_hub_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", default=None, help="hub URL (default: CENTRAL_URL or http://127.0.0.1:3000)")
    parser.add_argument("--admin-secret", default=None, help="default: ADMIN_SECRET or the local hub's saved secret")


def hub_url(args: argparse.Namespace) -> str:
    return admin_hub_url(args.hub)


def admin_client(args: argparse.Namespace) -> tuple[HubClient, str]:
    url = hub_url(args)
    secret = admin_secret(args.admin_secret)
    if not secret:
        saved = paths.hub_data_dir() / "admin_secret"
        if saved.exists():
            secret = saved.read_text().strip()
    if not secret:
        raise CliError("no admin secret: pass --admin-secret or set ADMIN_SECRET")
    return HubClient(url), secret


def admin_client_optional(args: argparse.Namespace) -> tuple[HubClient, str | None]:
    return HubClient(hub_url(args), viewer_token() or None), None
