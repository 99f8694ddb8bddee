"""Joining a hub: check it, trade a join code (or check a token), keep the token in the keyring.

Shared by `forge join` and the desktop onboarding dialog, so both say exactly what is wrong.
"""
from __future__ import annotations

from .client import HubClient, HubError, HubUnreachable, NotAForgeHub, normalize_url
from .credentials import save_token
from .settings import Settings, default_node_id


class OnboardingError(Exception):
    """A readable reason the hub, code or token was not accepted; nothing was saved."""


def check_hub(url: str) -> HubClient:
    url = normalize_url(url)
    if not url.startswith(("http://", "https://")):
        raise OnboardingError(f"{url!r} is not an http(s) URL")
    client = HubClient(url, timeout=8)
    try:
        client.health()
    except HubUnreachable as e:
        raise OnboardingError(f"the hub is unreachable: {e}") from None
    except NotAForgeHub as e:
        raise OnboardingError(f"not a Forge hub: {e}") from None
    return client


def check_token(client: HubClient, node_id: str, token: str) -> None:
    """Prove the token by an empty ingest for this node (writes nothing)."""
    try:
        client.ingest(node_id, {}, [])
    except HubError as e:
        if e.status in (401, 403):
            raise OnboardingError(f"the hub refused the token for {node_id!r}: {e.message}") from None
        raise OnboardingError(f"the hub answered an error: {e.message}") from None
    except HubUnreachable as e:
        raise OnboardingError(f"the hub is unreachable: {e}") from None


def join(url: str, code: str, node_id: str | None = None) -> tuple[str, str]:
    """Trade a join code for a node token; save the token (keyring) and the hub/node (settings)."""
    client = check_hub(url)
    try:
        body = client.post("/api/join", {"code": code, "node_id": node_id or default_node_id()})
    except HubError as e:
        raise OnboardingError(f"join code refused: {e.message}") from None
    except HubUnreachable as e:
        raise OnboardingError(f"the hub is unreachable: {e}") from None
    remember(client.url, body["node_id"], body["token"])
    return body["node_id"], client.url


def connect_with_token(url: str, node_id: str, token: str) -> str:
    client = check_hub(url)
    client.token = token
    check_token(client, node_id, token)
    remember(client.url, node_id, token)
    return client.url


def remember(url: str, node_id: str, token: str) -> None:
    save_token(url, node_id, token)
    s = Settings.load()
    s.hub_url, s.node_id = url, node_id
    s.save()
