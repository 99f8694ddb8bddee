"""The node window's per-device sections (schema 2): a card of four charts per GPU
(utilisation, memory, temperature, power), and small multiples of one chart per disk
(read/write) and per network interface (received/sent).

Every entry of a list is keyed by what names it (a GPU by vendor and index, a disk or
an interface by its name), never by its position: a disk may appear or vanish between
two samples, and its chart keeps its own history. A section is hidden while no sample
in range has an entry; a device absent from the newest sample keeps its chart (its
line just stops) until the range no longer holds it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from . import theme as th
from .charts import PALETTE, Chart, pct, rate, size

SMALL_H = 120
COLUMNS = 3


def _float(v) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan


@dataclass
class DeviceSeries:
    """One device's columns over the samples, NaN where a sample lacks the device or the figure."""
    name: str
    columns: dict[str, np.ndarray]
    latest: dict
    """The device's entry in the newest sample holding it."""
    in_newest: bool


Rows = dict[str, tuple[dict, tuple[float, ...]]]
"""One sample's devices: key -> (its entry, its figures in the order of `fields`)."""


def sample_rows(sample: dict, entries, key, fields: tuple[str, ...]) -> Rows:
    items = entries(sample)
    if not isinstance(items, list):
        return {}
    return {key(e): (e, tuple(_float(e.get(f)) for f in fields)) for e in items if isinstance(e, dict)}


def device_series(samples: list[dict], entries, key, fields: tuple[str, ...],
                  cache: dict[float, Rows] | None = None) -> dict[str, DeviceSeries]:
    """`entries(sample)` lists a sample's devices and `key(entry)` names one; the result is
    keyed like that, in the order devices first appear. `cache` (by sample `ts`, kept by
    the caller) spares re-reading the samples a live window already read a second ago."""
    rows: list[Rows] = []
    for s in samples:
        r = cache.get(s.get("ts")) if cache is not None else None
        if r is None:
            r = sample_rows(s, entries, key, fields)
            if cache is not None:
                cache[s.get("ts")] = r
        rows.append(r)
    if cache is not None and len(cache) > 2 * len(samples):
        kept = {s.get("ts") for s in samples}
        for ts in [ts for ts in cache if ts not in kept]:
            del cache[ts]
    found: dict[str, DeviceSeries] = {}
    nan = (math.nan,) * len(fields)
    for r in rows:
        for k in r:
            if k not in found:
                found[k] = DeviceSeries(k, {}, r[k][0], False)
    for k, d in found.items():
        values = np.array([r[k][1] if k in r else nan for r in rows], dtype=float).reshape(len(rows), len(fields))
        d.columns = {f: values[:, j] for j, f in enumerate(fields)}
        last = next(r for r in reversed(rows) if k in r)
        d.latest = last[k][0]
        d.in_newest = bool(rows) and k in rows[-1]
    return found


def _gpus(s: dict):
    return s.get("gpus")


def _disks(s: dict):
    return (s.get("disk") or {}).get("devices") if isinstance(s.get("disk"), dict) else None


def _interfaces(s: dict):
    return (s.get("net") or {}).get("interfaces") if isinstance(s.get("net"), dict) else None


def gpu_index(g: dict):
    """The GPU's index; the hub's averaged tiers give 0.0 for 0 (a mean of integers)."""
    v = g.get("index")
    return int(v) if isinstance(v, float) and v.is_integer() else v


def gpu_key(g: dict) -> str:
    return f"{g.get('vendor') or 'gpu'}:{gpu_index(g)}"


def _name(e: dict) -> str:
    return str(e.get("name") or "?")


class Section(QFrame):
    """A titled section of the node page that makes its charts on demand; `chart_added`
    lets the window link each new chart's time axis and cursor to the others."""
    chart_added = Signal(object)

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = th.plain_label(title)
        self.readout = th.plain_label()
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.readout)
        head.addStretch(1)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(0, 10, 0, 0)
        self.body.setSpacing(4)
        self.body.addLayout(head)
        self.greyed = False
        self.cache: dict[float, Rows] = {}
        self.hide()

    def charts(self) -> list[Chart]:
        raise NotImplementedError

    def _new_chart(self, title: str, y_range: tuple[float, float] | None = None, units: str | None = None) -> Chart:
        chart = Chart(title, height=SMALL_H)
        chart.y_range = y_range
        if units:
            chart.plot.setLabel("left", units=units)
        chart.plot.getViewBox().setLimits(yMin=0)
        chart.keep_y()
        chart.restyle(self.greyed)
        self.chart_added.emit(chart)
        return chart

    def restyle(self, greyed: bool) -> None:
        self.greyed = greyed
        c = th.colors()
        self.title.setStyleSheet(f"font-weight: 600; font-size: 14px; color: {c.text}")
        self.readout.setStyleSheet(f"color: {c.muted}; padding-left: 12px")
        for chart in self.charts():
            chart.restyle(greyed)


class GpuCard(QFrame):
    """One GPU: its name and four charts in a row."""

    def __init__(self, section: "GpuSection"):
        super().__init__()
        self.setObjectName("gpuCard")
        self.name = th.plain_label()
        self.util = section._new_chart("Utilisation", (0, 100))
        self.mem = section._new_chart("Memory", units="B")
        self.temp = section._new_chart("Temperature")
        self.power = section._new_chart("Power", units="W")
        self.temp.plot.getViewBox().setLimits(yMin=0, minYRange=10)  # a 1 °C wobble is not a cliff
        self.power.plot.getViewBox().setLimits(yMin=0, minYRange=20)
        self.charts = (self.util, self.mem, self.temp, self.power)
        self.curves = {"util_percent": self.util.curve(PALETTE[2], fill=True),
                       "mem_used": self.mem.curve(PALETTE[0], fill=True),
                       "temp_c": self.temp.curve(PALETTE[1]),
                       "power_w": self.power.curve(PALETTE[3])}
        row = QHBoxLayout()
        row.setSpacing(8)
        for chart in self.charts:
            row.addWidget(chart, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.name)
        layout.addLayout(row)

    def show_series(self, ts: np.ndarray, d: DeviceSeries, prefix: str) -> None:
        g = d.latest
        for field, curve in self.curves.items():
            curve.setData(ts, d.columns[field])
        total = _float(g.get("mem_total"))
        self.mem.y_range = (0, total) if math.isfinite(total) and total > 0 else None
        self.mem.keep_y()
        self.name.setText(" · ".join(str(x) for x in (f"GPU {gpu_index(g)}", g.get("name"), g.get("vendor")) if x))
        last = {f: d.columns[f][-1] if len(d.columns[f]) else math.nan for f in self.curves}
        self.util.readout.setText(prefix + pct(last["util_percent"]))
        used = last["mem_used"]
        self.mem.readout.setText(prefix + (f"{size(used)} of {size(total)}" if math.isfinite(used) else "–"))
        self.temp.readout.setText(prefix + ("–" if not math.isfinite(last["temp_c"]) else f"{last['temp_c']:.0f} °C"))
        no_power = bool(np.all(np.isnan(d.columns["power_w"])))
        self.power.readout.setText("not reported by this GPU" if no_power else
                                   prefix + ("–" if not math.isfinite(last["power_w"]) else f"{last['power_w']:.0f} W"))


class GpuSection(Section):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("GPUs", parent)
        self.cards: dict[str, GpuCard] = {}

    def charts(self) -> list[Chart]:
        return [chart for card in self.cards.values() for chart in card.charts]

    def show_samples(self, ts: np.ndarray, samples: list[dict], greyed: bool) -> None:
        found = device_series(samples, _gpus, gpu_key, ("util_percent", "mem_used", "temp_c", "power_w"),
                              self.cache)
        for key in list(self.cards):
            if key not in found:
                self.cards.pop(key).deleteLater()
        prefix = "last seen " if greyed else "now "
        for key, d in found.items():
            card = self.cards.get(key)
            if card is None:
                card = self.cards[key] = GpuCard(self)
                self.body.addWidget(card)
                self.restyle(greyed)
            card.show_series(ts, d, prefix)
        busy = [d.columns["util_percent"][-1] for d in found.values() if len(ts) and d.in_newest]
        busy = [b for b in busy if math.isfinite(b)]
        self.readout.setText(f"{len(found)} GPU{'s' if len(found) != 1 else ''}"
                             + (f" · {prefix}mean {pct(sum(busy) / len(busy))} busy" if busy else ""))
        self.setVisible(bool(found))

    def restyle(self, greyed: bool) -> None:
        super().restyle(greyed)
        c = th.colors()
        for card in self.cards.values():
            card.name.setStyleSheet(f"font-weight: 600; color: {c.muted}; padding-top: 4px")


class SmallMultiples(Section):
    """One small chart per device with two lines (read/write, received/sent), COLUMNS a row."""

    def __init__(self, title: str, entries, fields: tuple[str, str], labels: tuple[str, str],
                 colors: tuple[str, str], parent: QWidget | None = None):
        super().__init__(title, parent)
        self.entries, self.fields, self.labels, self.colors = entries, fields, labels, colors
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(2)
        for col in range(COLUMNS):
            self.grid.setColumnStretch(col, 1)
        self.body.addLayout(self.grid)
        self.small: dict[str, tuple[Chart, list]] = {}
        self.key = [th.plain_label(f"━ {label}") for label in labels]
        head = self.body.itemAt(0).layout()
        for i, label in enumerate(self.key):
            head.insertWidget(2 + i, label)

    def charts(self) -> list[Chart]:
        return [chart for chart, _curves in self.small.values()]

    def extra(self, d: DeviceSeries, prefix: str) -> str:
        return ""

    def show_samples(self, ts: np.ndarray, samples: list[dict], greyed: bool) -> None:
        found = device_series(samples, self.entries, _name, (*self.fields, "busy_percent"), self.cache)
        if set(found) != set(self.small):
            self._rebuild(found, greyed)
        prefix = "last seen " if greyed else ""
        for name, d in found.items():
            chart, curves = self.small[name]
            for field, curve in zip(self.fields, curves):
                curve.setData(ts, d.columns[field])
            a, b = (d.columns[f][-1] if d.in_newest else math.nan for f in self.fields)
            chart.readout.setText(f"{prefix}{self.labels[0]} {rate(a)} · {self.labels[1]} {rate(b)}"
                                  + self.extra(d, prefix))
        self.readout.setText(f"{len(found)} shown")
        self.setVisible(bool(found))

    def _rebuild(self, found: dict[str, DeviceSeries], greyed: bool) -> None:
        for chart, _curves in self.small.values():
            self.grid.removeWidget(chart)
            chart.deleteLater()
        self.small = {}
        for i, name in enumerate(sorted(found)):
            chart = self._new_chart(name, units="B/s")
            chart.plot.getViewBox().setLimits(yMin=0, minYRange=1024)
            curves = [chart.curve(color) for color in self.colors]  # the section's key names the lines
            self.small[name] = (chart, curves)
            self.grid.addWidget(chart, i // COLUMNS, i % COLUMNS)
        self.restyle(greyed)


    def restyle(self, greyed: bool) -> None:
        super().restyle(greyed)
        for label, color in zip(self.key, self.colors):
            label.setStyleSheet(f"color: {color}; font-weight: 600; padding-left: 10px")


class DiskSection(SmallMultiples):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Disks", _disks, ("read_bps", "write_bps"), ("read", "write"), (PALETTE[0], PALETTE[1]),
                         parent)

    def extra(self, d: DeviceSeries, prefix: str) -> str:
        busy = d.columns["busy_percent"][-1] if d.in_newest else math.nan
        return f" · busy {busy:.0f} %" if math.isfinite(busy) else ""


class InterfaceSection(SmallMultiples):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Network interfaces", _interfaces, ("rx_bps", "tx_bps"), ("in", "out"),
                         (PALETTE[2], PALETTE[3]), parent)

    def extra(self, d: DeviceSeries, prefix: str) -> str:
        up = d.latest.get("up")
        return " · link down" if up is False else ""
