"""The payloads of the alert routes, as msgspec Structs (validated once, at the edge)."""
from __future__ import annotations

import msgspec

METRICS = ("offline", "cpu", "memory", "swap", "disk", "temperature", "load", "net_rx", "net_tx",
           "gpu", "battery", "reboot", "disk_fill_hours")
OPS = (">", "<")
SEVERITIES = ("warning", "critical")


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    """A rule as an admin posts it; `id` is the hub's to give."""
    name: str
    metric: str
    threshold: float = 0.0
    op: str = ">"
    for_s: float = 0.0
    nodes: list[str] = msgspec.field(default_factory=lambda: ["*"])
    severity: str = "warning"
    channels: list[int] = msgspec.field(default_factory=list)
    enabled: bool = True


class Rule(msgspec.Struct):
    id: int
    name: str
    metric: str
    op: str
    threshold: float
    for_s: float
    nodes: list[str]
    severity: str
    channels: list[int]
    enabled: bool

    def applies_to(self, node_id: str) -> bool:
        return "*" in self.nodes or node_id in self.nodes


class ChannelIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    url: str


class Channel(msgspec.Struct):
    """A channel as the store holds it (`url` in clear, only in memory); lists show `masked`."""
    id: int
    name: str
    url: str
    last_error: str | None = None
    last_sent_at: float | None = None


class Alert(msgspec.Struct):
    """One episode of a rule holding for a node: firing (or paused) until it resolves."""
    id: int
    rule_id: int
    rule_name: str
    metric: str
    node_id: str
    severity: str
    state: str  # firing | paused | resolved
    value: float | None
    threshold: float
    op: str
    started_at: float
    resolved_at: float | None = None


class MaintenanceIn(msgspec.Struct, forbid_unknown_fields=True):
    until: float | None



class ChannelView(msgspec.Struct):
    """A channel as the API shows it: the URL masked."""
    id: int
    name: str
    url: str
    last_error: str | None
    last_sent_at: float | None


class RuleList(msgspec.Struct):
    rules: list[Rule]


class ChannelList(msgspec.Struct):
    channels: list[ChannelView]


class AlertList(msgspec.Struct):
    alerts: list[Alert]


class Deleted(msgspec.Struct):
    deleted: int


class TestReply(msgspec.Struct):
    ok: bool
    error: str | None


class MaintenanceReply(msgspec.Struct):
    node: str
    until: float | None


STRUCTS = (RuleIn, Rule, RuleList, ChannelIn, ChannelView, ChannelList, Alert, AlertList, Deleted, TestReply,
           MaintenanceIn, MaintenanceReply)
