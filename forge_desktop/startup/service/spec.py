"""One validated service request, as every OS module takes it."""
from __future__ import annotations

from dataclasses import dataclass

KINDS = ("agent", "hub")
SCOPES = ("user", "system")
DESCRIPTIONS = {"agent": "Forge agent: metrics and idle-time jobs for the fleet",
                "hub": "Forge hub: fleet API, dashboard and job queue"}


@dataclass(frozen=True)
class ServiceSpec:
    """One validated service request."""

    os_name: str
    kind: str
    scope: str
    argv: list[str]
    env: dict[str, str]
    user: str | None

    @property
    def name(self) -> str:
        return f"forge-{self.kind}"

    @property
    def label(self) -> str:
        return f"dev.forge.{self.kind}"
