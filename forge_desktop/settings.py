"""Agent and desktop settings: flags, then the environment, then the config file.

The token is never in the file: it lives in the OS keyring (see credentials.py), or
comes from `--token` / `BEARER_TOKEN` for headless setups.
"""
from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from . import paths

JOB_MODES = ("idle", "always", "never")


@dataclass
class Settings:
    hub_url: str = ""
    node_id: str = ""
    jobs: str = "idle"
    push_interval_s: float = 5.0
    sample_interval_s: float = 1.0
    buffer_max_bytes: int = 50 * 1024 * 1024
    embedded_hub: bool = False
    hub_port: int = 3000
    max_cores: int = 0
    job_types: list[str] = field(default_factory=list)

    @staticmethod
    def file() -> Path:
        return paths.config_dir() / "settings.json"

    @classmethod
    def load(cls) -> "Settings":
        """Settings from the config file (missing file: defaults). Unknown keys are ignored."""
        f = cls.file()
        values = {}
        if f.exists():
            try:
                raw = json.loads(f.read_text())
            except ValueError as e:
                raise SettingsError(f"{f} is not valid JSON ({e}); fix or delete it") from None
            names = {x.name for x in fields(cls)}
            values = {k: v for k, v in raw.items() if k in names}
        return cls(**values)

    def save(self) -> Path:
        f = self.file()
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, f)
        return f

    def apply_env(self) -> "Settings":
        self.hub_url = os.environ.get("CENTRAL_URL") or self.hub_url
        self.node_id = os.environ.get("NODE_ID") or self.node_id
        return self

    def validate(self) -> None:
        if self.jobs not in JOB_MODES:
            raise SettingsError(f"jobs mode must be one of {', '.join(JOB_MODES)}, not {self.jobs!r}")
        if self.push_interval_s <= 0 or self.sample_interval_s <= 0:
            raise SettingsError("intervals must be positive")


class SettingsError(ValueError):
    pass


def default_node_id() -> str:
    name = socket.gethostname().split(".")[0].lower() or "node"
    clean = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in name).strip("-._")
    return clean[:64] or "node"
