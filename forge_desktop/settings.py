"""Agent and desktop settings, declared once: flags win over the environment, which wins
over the settings file, which wins over the defaults. `Settings.resolve` is the one place
that order is applied, as hub/config.py does for the hub.

The token is never in the file: it lives in the OS keyring (see credentials.py), or
comes from `--token` / `BEARER_TOKEN` for headless setups. The secrets below are read
here too, so no other module of forge_desktop reads these environment variables.
"""
from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from . import paths

JOB_MODES = ("idle", "always", "never")


def _setting(default, help: str, env: str | None = None):
    return field(default=default, metadata={"help": help, "env": env})


@dataclass
class Settings:
    hub_url: str = _setting("", "Hub the agent reports to.", env="CENTRAL_URL")
    node_id: str = _setting("", "This machine's node id (default: the host name).", env="NODE_ID")
    jobs: str = _setting("idle", "When the worker takes jobs: idle (desktops), always (servers), never.")
    push_interval_s: float = _setting(5.0, "Seconds between pushes.")
    sample_interval_s: float = _setting(1.0, "Seconds between samples.")
    buffer_max_bytes: int = _setting(50 * 1024 * 1024, "Size limit of the offline buffer.")
    embedded_hub: bool = _setting(False, "The tray app runs a hub inside it.")
    hub_port: int = _setting(3000, "Port of the embedded hub (the environment: a second instance on one machine).",
                             env="FORGE_DESKTOP_HUB_PORT")
    max_cores: int = _setting(0, "Cores jobs may use (0: all but one).")
    job_types: list[str] = field(default_factory=list, metadata={
        "help": "Job types the worker takes (empty: the production ones; comma-separated in the environment).",
        "env": "FORGE_WORKER_TYPES"})

    @staticmethod
    def file() -> Path:
        return paths.config_dir() / "settings.json"

    @classmethod
    def load(cls) -> "Settings":
        """Settings from the config file alone (missing file: defaults). Unknown keys are ignored."""
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

    @classmethod
    def resolve(cls, env: Mapping[str, str] | None = None, **flags) -> "Settings":
        """The settings in force: `flags` (None means not given) over `env` (default
        os.environ) over the settings file over the defaults; validated."""
        names = {f.name for f in fields(cls)}
        unknown = set(flags) - names
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        s = cls.load().apply_env(os.environ if env is None else env)
        for name, value in flags.items():
            if value is not None:
                setattr(s, name, value)
        s.validate()
        return s

    def save(self) -> Path:
        f = self.file()
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, f)
        return f

    def apply_env(self, env: Mapping[str, str] | None = None) -> "Settings":
        """Each setting that names an environment variable takes its value when it is set
        and not empty."""
        env = os.environ if env is None else env
        for f in fields(self):
            name = f.metadata.get("env")
            raw = env.get(name, "").strip() if name else ""
            if raw:
                setattr(self, f.name, _parse(f.name, name, raw))
        return self

    def validate(self) -> None:
        if self.jobs not in JOB_MODES:
            raise SettingsError(f"jobs mode must be one of {', '.join(JOB_MODES)}, not {self.jobs!r}")
        if self.push_interval_s <= 0 or self.sample_interval_s <= 0:
            raise SettingsError("intervals must be positive")
        if not 0 < self.hub_port < 65536:
            raise SettingsError(f"hub_port must be between 1 and 65535, not {self.hub_port}")


def _parse(setting: str, env_name: str, raw: str):
    if setting == "job_types":
        return [t.strip() for t in raw.split(",") if t.strip()]
    if setting == "hub_port":
        try:
            port = int(raw)
        except ValueError:
            raise SettingsError(f"{env_name} must be a TCP port number, not {raw!r}") from None
        if not 0 < port < 65536:
            raise SettingsError(f"{env_name} must be between 1 and 65535, not {port}")
        return port
    return raw


class SettingsError(ValueError):
    pass


# Secrets and the admin commands' hub: a flag, else the environment; never the file.
DEFAULT_ADMIN_HUB = "http://127.0.0.1:3000"


def bearer_token(flag: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """A node token given by `--token` or BEARER_TOKEN (else the keyring's, which callers read)."""
    return flag or (os.environ if env is None else env).get("BEARER_TOKEN") or None


def admin_secret(flag: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    return flag or (os.environ if env is None else env).get("ADMIN_SECRET") or None


def viewer_token(flag: str | None = None, env: Mapping[str, str] | None = None) -> str:
    return flag or (os.environ if env is None else env).get("FORGE_VIEWER_TOKEN") or ""


def admin_hub_url(flag: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The hub `forge tokens|jobs|alerts` talk to: --hub, CENTRAL_URL, else this machine's."""
    return flag or (os.environ if env is None else env).get("CENTRAL_URL") or DEFAULT_ADMIN_HUB


def default_node_id() -> str:
    name = socket.gethostname().split(".")[0].lower() or "node"
    clean = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in name).strip("-._")
    return clean[:64] or "node"
