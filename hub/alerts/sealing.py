"""Channel URLs at rest: sealed with Fernet (AES-128-CBC + HMAC-SHA256) under a key file.

The key lives beside the database as `channels.key` (mode 600), created on first use, so
a copy of the database alone (a backup, a bug report) does not show anyone's webhook
tokens or SMTP passwords. Whoever can read the data directory can read both: this guards
the database file, not the machine. Lists and logs only ever show `mask(url)`.
"""
from __future__ import annotations

import os
from pathlib import Path

import apprise
from cryptography.fernet import Fernet, InvalidToken

KEY_FILE = "channels.key"


class Sealer:
    def __init__(self, data_dir: Path | str):
        path = Path(data_dir) / KEY_FILE
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
        self._fernet = Fernet(path.read_bytes().strip())

    def seal(self, url: str) -> str:
        return self._fernet.encrypt(url.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The URL, or None if it was sealed under another key (the key file was replaced)."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None


def parses(url: str) -> bool:
    return apprise.Apprise.instantiate(url) is not None


def mask(url: str | None) -> str:
    """The URL with its secrets hidden, as Apprise shows it (privacy mode), query dropped."""
    if not url:
        return "(unreadable: sealed under another key)"
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return url.split(":", 1)[0] + "://…"
    return plugin.url(privacy=True).split("?", 1)[0]
