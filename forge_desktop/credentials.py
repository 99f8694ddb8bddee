"""The node token in the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service).

Tests and headless boxes pick a backend by environment (PYTHON_KEYRING_BACKEND), e.g.
keyrings.alt's file backend; nothing here falls back to a plain file silently.
"""
from __future__ import annotations

SERVICE = "forge-monitor"


class KeyringUnavailable(RuntimeError):
    pass


def _account(hub_url: str, node_id: str) -> str:
    return f"{hub_url.rstrip('/')}|{node_id}"


def save_token(hub_url: str, node_id: str, token: str) -> None:
    import keyring  # imported on use: an agent given its token never pays for it
    import keyring.errors
    try:
        keyring.set_password(SERVICE, _account(hub_url, node_id), token)
    except keyring.errors.KeyringError as e:
        raise KeyringUnavailable(
            f"could not store the token in the OS keyring ({e}); install a keyring backend "
            "or set PYTHON_KEYRING_BACKEND") from None


def load_token(hub_url: str, node_id: str) -> str | None:
    import keyring
    import keyring.errors
    try:
        return keyring.get_password(SERVICE, _account(hub_url, node_id))
    except keyring.errors.KeyringError:
        return None


