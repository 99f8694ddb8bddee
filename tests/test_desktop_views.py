"""The native node and fleet windows against a real hub process, fed through its ingest API.

A 64- or 128-core machine and a hostile node are what this machine cannot be, so they
are simulated the way bench/fleet_simulator.py does it: real HTTP pushes of samples to
a real hub on loopback, each node with its own token. The windows then read that hub
exactly as they read any other.
"""
from __future__ import annotations

import threading
import time

import pytest

from conftest import ADMIN, http, wait_until

pytest.importorskip("pytestqt")

FAST_STATUS = {"FORGE_HUB_DEGRADED_AFTER_S": "1", "FORGE_HUB_OFFLINE_AFTER_S": "2"}
HOSTILE = "<b style=color:red>HUB COMPROMISED</b>"
LP = "Maximize\n obj: x\nSubject To\n c1: x <= 4\nEnd\n"


def sample(ts: float, cores: int, i: int) -> dict:
    per_core = [float((c * 7 + i) % 100) for c in range(cores)]
    return {"schema_version": 1, "ts": ts,
            "cpu": {"percent": sum(per_core) / cores, "per_core": per_core, "freq_mhz": None, "temp_c": None,
                    "package_temp_c": None},
            "memory": {"total": 64 << 30, "used": 16 << 30, "available": 48 << 30, "percent": 25.0 + i % 10},
            "swap": {"total": 0, "used": 0, "percent": 0.0},
            "disk": {"read_bps": 1000.0 * i, "write_bps": 500.0, "mounts": [
                {"mount": "/", "fstype": "ext4", "total": 100, "used": 91, "free": 9, "percent": 91.0}]},
            "net": {"rx_bps": 2048.0, "tx_bps": 1024.0}, "load": [1.5, 1.2, 1.0], "uptime_s": 90000.0,
            "battery": None}


def push(hub, node_id: str, *, cores: int = 8, count: int = 60, end: float | None = None,
         os_name: str = "Linux", os_version: str = "6.1.0") -> None:
    """`count` samples one second apart ending at `end` (default now), in one ingest."""
    end = time.time() if end is None else end
    identity = {"hostname": node_id, "os": os_name, "os_version": os_version, "arch": "x86_64", "cores": cores,
                "physical_cores": cores // 2, "agent_version": "0.1.0"}
    samples = [sample(end - (count - 1 - i), cores, i) for i in range(count)]
    if node_id not in hub.node_tokens:
        hub.node_tokens[node_id] = hub.token(node_id)
    st, body = http("POST", f"{hub.url}/api/ingest/{node_id}", {"node": identity, "samples": samples},
                    token=hub.node_tokens[node_id])
    assert st == 200, body


@pytest.fixture(autouse=True)
def own_settings(tmp_path):
    """QSettings (the remembered view, the theme) in a folder of this test, in light mode."""
    from PySide6.QtCore import QSettings
    from forge_desktop.ui import theme
    QSettings.setPath(QSettings.NativeFormat, QSettings.UserScope, str(tmp_path / "qsettings"))
    theme.theme.set_mode("light", remember=False)
    yield
    theme.theme.set_mode("light", remember=False)


@pytest.fixture
def sim_hub(live_hub):
    """A hub with the usual status thresholds (a node pushed once stays online for 15 s)."""
    hub = live_hub()
    hub.node_tokens = {}
    return hub


@pytest.fixture
def fast_hub(live_hub):
    """A hub whose nodes turn offline 2 s after their last push."""
    hub = live_hub(env=FAST_STATUS)
    hub.node_tokens = {}
    return hub


def reachable_by_scrolling(win, widget) -> bool:
    """Scroll the page so `widget` is in view; true when all of it then lies inside the viewport."""
    from PySide6.QtCore import QRect
    win.scroll.ensureWidgetVisible(widget, 0, 0)
    viewport = win.scroll.viewport()
    top_left = widget.mapTo(viewport, widget.rect().topLeft())
    return viewport.rect().contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("cores", [64, 128])
def test_node_window_scales_to_many_cores_and_every_chart_is_reachable(qtbot, sim_hub, cores, artifacts):
    from forge_desktop.ui.node_window import CHART_H, NodeWindow
    node = f"big{cores}"
    push(sim_hub, node, cores=cores, count=120)
    win = NodeWindow(sim_hub.url, None, node)
    qtbot.addWidget(win)
    win.resize(1100, 800)
    win.show()
    qtbot.waitUntil(lambda: len(win.samples) >= 120, timeout=10000)
    push(sim_hub, node, cores=cores, count=1)  # a live sample through the node's event stream
    qtbot.waitUntil(lambda: len(win.samples) >= 121, timeout=10000)

    spanned = round(win.samples[-1]["ts"] - win.samples[0]["ts"]) + 1  # a column per second of the strip
    assert win.heat.image.shape == (spanned, cores)  # one image row per core, not a plot each
    assert len(win.core_grid.values) == cores
    assert win.core_grid.cell_text(1) == f"1: {win.samples[-1]['cpu']['per_core'][1]:.0f} %"
    assert win.page.height() > win.scroll.viewport().height()  # the page scrolls, nothing is squeezed
    for chart in win.charts:
        assert chart.plot_widget.height() >= min(CHART_H, 120), chart.title.text()
        assert reachable_by_scrolling(win, chart), f"{chart.title.text()} not reachable"
    assert win.mem_chart.readout.text().startswith("now 2")
    assert win.facts["temperature"].text() == "unavailable"
    assert win.facts["uptime"].text() == "1 d 1 h"
    xs, ys = win.curves["mem"].getData()
    assert len(xs) == len(win.samples) and xs[-1] > time.time() - 60  # a real time axis, not epoch 0
    lo, hi = win.cpu_chart.plot.viewRange()[0]
    assert hi == pytest.approx(time.time(), abs=5) and hi - lo == pytest.approx(300, abs=1)
    assert not win.banner.isVisible()
    win.scroll.verticalScrollBar().setValue(0)
    win.grab().save(str(artifacts / f"desktop_node_{cores}.png"))
    from forge_desktop.ui import theme
    theme.theme.set_mode("dark", remember=False)
    assert win.cpu_chart.plot_widget.backgroundBrush().color().name() == theme.DARK.surface
    win.scroll.verticalScrollBar().setValue(win.scroll.verticalScrollBar().maximum())
    qtbot.wait(200)
    win.grab().save(str(artifacts / f"desktop_node_{cores}_dark_bottom.png"))


def test_offline_node_shows_a_banner_greyed_last_values_and_a_range_with_data(qtbot, fast_hub, artifacts):
    from forge_desktop.ui.node_window import NodeWindow
    push(fast_hub, "gone", cores=8, count=120, end=time.time() - 600)  # its last data is 10 min old
    wait_until(lambda: fast_hub.fleet()["gone"]["status"] == "offline", 10, what="gone to turn offline")
    win = NodeWindow(fast_hub.url, None, "gone")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(win.samples) == 120, timeout=10000)
    assert win.span.label == "1 h" and win.span is not win.spans[0]  # live 5 min would be empty
    assert win.banner.isVisible()
    assert win.banner.text().startswith("offline since ")
    assert "ago)" in win.banner.text()
    assert win.cpu_chart.readout.text().startswith("last seen ")
    assert win.fact_captions["memory"].text() == "Memory (last seen)"
    assert win.heat.image.shape == (120, 8)
    win.grab().save(str(artifacts / "desktop_node_offline.png"))


def test_node_supplied_strings_are_plain_text_on_cards_table_and_node_window(qtbot, sim_hub, artifacts):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel
    from forge_desktop.ui.fleet_window import FleetWindow
    from forge_desktop.ui.node_window import NodeWindow
    push(sim_hub, "evil", os_name=HOSTILE, os_version="")
    win = FleetWindow(sim_hub.url, None)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: "evil" in win.cards and win.cards["evil"].meta.text().startswith("<b style"),
                    timeout=10000)
    card = win.cards["evil"]
    assert "&lt;b style=color:red&gt;HUB COMPROMISED&lt;/b&gt;" in card.meta.toolTip()  # the tooltip shows it literally
    for label in card.findChildren(QLabel):
        assert label.textFormat() == Qt.PlainText, label.text()
    assert card.meta.textFormat() == Qt.PlainText
    win.grab().save(str(artifacts / "desktop_fleet_hostile.png"))
    win.set_table_view(True)
    qtbot.waitUntil(lambda: win.table.rowCount() == 1, timeout=5000)
    assert HOSTILE in win.table.item(0, 2).text()
    win.set_table_view(False)

    node = NodeWindow(sim_hub.url, None, "evil")
    qtbot.addWidget(node)
    node.show()
    qtbot.waitUntil(lambda: len(node.samples) > 0, timeout=10000)
    assert HOSTILE in node.facts["system"].text()
    for label in node.findChildren(QLabel):
        assert label.textFormat() == Qt.PlainText, label.text()


def test_fleet_filter_sort_and_table_view(qtbot, fast_hub, artifacts, request):
    from forge_desktop.ui.fleet_window import FleetWindow
    push(fast_hub, "old-box", end=time.time() - 120)
    wait_until(lambda: fast_hub.fleet()["old-box"]["status"] == "offline", 10, what="old-box to turn offline")
    live = (("zeta", 4), ("alpha", 8), ("mac", 8))

    def push_live() -> None:
        for node, cores in live:
            push(fast_hub, node, cores=cores, count=5, os_name="Darwin" if node == "mac" else "Linux",
                 os_version="23.4.0" if node == "mac" else "6.1.0")
    push_live()
    # The live nodes go on pushing, as agents do, so a slow machine cannot let their 2 s
    # run out before the window has drawn them; old-box has stopped.
    stop = threading.Event()

    def keep_pushing() -> None:
        while not stop.wait(0.5):
            push_live()
    threading.Thread(target=keep_pushing, daemon=True).start()
    request.addfinalizer(stop.set)
    st, _ = http("POST", fast_hub.url + "/api/jobs", {"type": "mps", "payload": {"model": LP, "format": "lp"}},
                 token=ADMIN)  # no worker: it stays queued
    assert st == 201
    win = FleetWindow(fast_hub.url, None)
    qtbot.addWidget(win)
    win.resize(1100, 700)
    win.show()
    qtbot.waitUntil(lambda: len(win.cards) == 4, timeout=10000)
    win.flush()
    qtbot.waitUntil(lambda: "jobs: 0 running on 0 nodes, 1 queued" in win.summary.text(), timeout=5000)
    assert "20 cores online" in win.summary.text()  # zeta 4 + alpha 8 + mac 8; old-box is offline
    assert win.ordered() == ["alpha", "mac", "old-box", "zeta"]
    assert "macOS 14" in win.cards["mac"].meta.text()

    offline = win.cards["old-box"]
    assert offline.greyed and offline.status.text() == "offline"
    assert offline.seen.text().startswith("last seen ")
    assert offline.cpu_bar.color() == offline.mem_bar.color()  # grey, not red or amber
    from forge_desktop.ui import theme
    assert offline.cpu_bar.color() == theme.colors().offline != theme.colors().bad

    qtbot.wait(300)  # let the grid lay the cards out before the picture
    win.grab().save(str(artifacts / "desktop_fleet_offline_card.png"))
    win.sort_box.setCurrentIndex(win.sort_box.findData("status"))
    assert win.ordered()[0] == "old-box"
    win.filter_edit.setText("macos")
    assert win.ordered() == ["mac"]
    qtbot.waitUntil(lambda: not win.cards["alpha"].isVisible(), timeout=3000)
    assert win.cards["mac"].isVisible()
    win.filter_edit.setText("")
    win.sort_box.setCurrentIndex(win.sort_box.findData("name"))

    win.set_table_view(True)
    qtbot.waitUntil(lambda: win.table.rowCount() == 4, timeout=5000)
    names = lambda: [win.table.item(r, 1).text() for r in range(win.table.rowCount())]  # noqa: E731
    win.table.sortByColumn(1, Qt_desc())
    assert names() == ["zeta", "old-box", "mac", "alpha"]
    disk = win.table.item(names().index("alpha"), 5)
    assert disk.text() == "91 %" and disk.foreground().color().name() == theme.colors().warn  # amber from 80 %
    win.grab().save(str(artifacts / "desktop_fleet_table.png"))
    win.close()

    again = FleetWindow(fast_hub.url, None)  # the choice of view is remembered
    qtbot.addWidget(again)
    assert again.table_view
    again.set_table_view(False)


def Qt_desc():
    from PySide6.QtCore import Qt
    return Qt.DescendingOrder


def test_dark_mode_restyles_the_fleet_window(qtbot, sim_hub, artifacts):
    from PySide6.QtWidgets import QApplication
    from forge_desktop.ui import theme
    from forge_desktop.ui.fleet_window import FleetWindow
    push(sim_hub, "alpha")
    win = FleetWindow(sim_hub.url, None)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: "alpha" in win.cards, timeout=10000)
    before = QApplication.palette().window().color().name()
    try:
        theme.theme.set_mode("dark", remember=False)
        assert theme.colors().dark
        assert QApplication.palette().window().color().name() == theme.DARK.window
        assert theme.DARK.surface in win.cards["alpha"].styleSheet()
        qtbot.wait(300)
        win.grab().save(str(artifacts / "desktop_fleet_dark.png"))
    finally:
        theme.theme.set_mode("light", remember=False)
    assert theme.LIGHT.surface in win.cards["alpha"].styleSheet()
    assert QApplication.palette().window().color().name() == before  # light gives the platform's palette back


def test_node_window_ranges_pick_the_tier_and_span_real_time(qtbot, sim_hub, artifacts):
    from forge_desktop.ui.node_window import NodeWindow
    push(sim_hub, "ranger", count=90)
    win = NodeWindow(sim_hub.url, None, "ranger")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(win.samples) >= 90, timeout=10000)
    assert [s.label for s in win.spans] == ["5 min live", "1 h", "6 h", "24 h", "7 d", "30 d", "1 y"]
    for label, resolution, seconds, live in (("1 h", "1s", 3600, True), ("6 h", "1m", 6 * 3600, False),
                                             ("7 d", "1m", 7 * 86400, False), ("30 d", "1h", 30 * 86400, False),
                                             ("1 y", "1h", 365 * 86400, False)):
        button = next(b for b in win.span_buttons.buttons() if b.text() == label)
        with qtbot.waitSignal(win.data_shown, timeout=10000):
            button.click()
        assert win.span.resolution == resolution and win.span.live == live and (win.stream is not None) == live
        lo, hi = win.cpu_chart.plot.viewRange()[0]
        assert hi == pytest.approx(time.time(), abs=5) and hi - lo == pytest.approx(seconds, rel=0.01)
        if resolution == "1s":
            assert len(win.samples) == 90  # the raw samples; the averaged tiers fill as the hub rolls them up
            push(sim_hub, "ranger", count=1)  # 1 h follows the node's stream, as on the dashboard
            qtbot.waitUntil(lambda: len(win.samples) == 91, timeout=10000)
        win.grab().save(str(artifacts / f"desktop_node_range_{label.replace(' ', '')}.png"))


def test_node_window_30_days_reads_the_hour_tier(qtbot, live_hub, artifacts):
    """As on the dashboard: 30 d is the 1-hour averages."""
    import numpy as np
    from forge_desktop.ui.node_window import NodeWindow, heat_cells
    hub = live_hub(env={**FAST_STATUS, "FORGE_HUB_ROLLUP_INTERVAL_S": "1"})
    now = time.time()
    # 20 days, one quarter-hour each day: two raw samples, 20 % and 60 %.
    starts = [(int(now) // 900 - 96 * d) * 900 for d in range(1, 21)]
    samples = []
    for t in starts:
        for ts, cpu in ((t + 5, 20.0), (t + 35, 60.0)):
            samples.append({**sample(ts, 2, 0), "cpu": {"percent": cpu, "per_core": [cpu, cpu]}})
    st, body = http("POST", f"{hub.url}/api/ingest/old", {"node": {"hostname": "old", "os": "Linux", "cores": 2},
                                                          "samples": samples}, token=hub.token("old"))
    assert st == 200, body
    url = f"{hub.url}/api/nodes/old/snapshot?resolution=1h&points=100&since={now - 31 * 86400}"
    wait_until(lambda: len(http("GET", url)[1]["samples"]) == 20, 30, what="the 1-hour tier to be rolled up")
    wait_until(lambda: hub.fleet()["old"]["status"] == "offline", 10, what="old to turn offline")
    win = NodeWindow(hub.url, None, "old")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.span.key == "7d" and len(win.samples) > 0, timeout=10000)  # its newest data: a day old
    with qtbot.waitSignal(win.data_shown, timeout=10000):
        next(b for b in win.span_buttons.buttons() if b.text() == "30 d").click()
    assert (win.span.resolution, win.span.every) == ("1h", None)
    assert [s["cpu"]["percent"] for s in win.samples] == [40.0] * 20  # hour averages, not raw samples
    assert [s["ts"] % 3600 for s in win.samples] == [0] * 20  # one bucket per hour
    assert "30 d at 1h" in win.info.text() and "one per" not in win.info.text()
    assert len(win.dots["cpu"].points()) == 20, "each lone hour is a dot: a day apart, no line joins them"
    lo, width, cells = heat_cells(np.array([s["ts"] for s in win.samples]), np.ones((20, 2)), 3600)
    assert win.heat.image.shape[0] >= 19 * 86400 // width, "the per-core strip spans the 20 days"
    win.grab().save(str(artifacts / "desktop_node_30d_hour_tier.png"))


def test_node_window_ranges_are_the_hubs_served_time_ranges(qtbot, sim_hub):
    """Each span's button and what it asks the snapshot route for are GET /api/meta's
    `time_ranges`; a meta that says otherwise is followed, and without one the window shows
    the newest samples live and says why."""
    import dataclasses
    from urllib.parse import parse_qs, urlsplit
    from forge_desktop.ui.node_window import NodeWindow
    from test_desktop_jobs import MetaProxy
    push(sim_hub, "ranger", count=60)
    served = http("GET", sim_hub.url + "/api/meta")[1]["time_ranges"]

    def asked(proxy) -> list[dict]:
        return [{k: v[0] for k, v in parse_qs(urlsplit(p).query).items()} for p in proxy.paths
                if "/snapshot?" in p and "since=" in p]

    proxy = MetaProxy(sim_hub.url, lambda meta: meta)
    try:
        win = NodeWindow(proxy.url, None, "ranger")
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: len(win.samples) >= 60, timeout=10000)
        assert [dataclasses.asdict(s) for s in win.spans] == served
        assert [b.text() for b in win.span_buttons.buttons()] == [r["label"] for r in served]
        assert win.span_buttons.checkedId() == 0 and not win.vocab_note.isVisible()
        for i, rng in enumerate(served[1:], 1):
            with qtbot.waitSignal(win.data_shown, timeout=10000):
                win.span_buttons.button(i).click()
            q = asked(proxy)[-1]
            assert (q["points"], q["resolution"], q.get("every")) == \
                (str(rng["points"]), rng["resolution"], None if rng["every"] is None else str(rng["every"])), rng
            assert time.time() - float(q["since"]) == pytest.approx(rng["seconds"], abs=30)
        win.close()
    finally:
        proxy.close()

    def changed(meta):
        meta["time_ranges"] = [{**meta["time_ranges"][0], "label": "last 5 min"},
                               {"key": "90m", "label": "90 min", "seconds": 5400, "resolution": "1m", "points": 90,
                                "step": 60, "every": None, "live": False, "refresh_s": 1}]
        return meta
    proxy = MetaProxy(sim_hub.url, changed)
    try:
        win = NodeWindow(proxy.url, None, "ranger")
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: len(win.samples) >= 60, timeout=10000)
        assert [b.text() for b in win.span_buttons.buttons()] == ["last 5 min", "90 min"]
        with qtbot.waitSignal(win.data_shown, timeout=10000):
            win.span_buttons.button(1).click()
        assert asked(proxy)[-1]["points"] == "90" and asked(proxy)[-1]["resolution"] == "1m"
        read = len(asked(proxy))
        qtbot.waitUntil(lambda: len(asked(proxy)) > read, timeout=5000)  # read again every refresh_s
        assert asked(proxy)[-1]["points"] == "90" and win.stream is None
        win.close()
    finally:
        proxy.close()

    proxy = MetaProxy(sim_hub.url, lambda _meta: None)
    try:
        win = NodeWindow(proxy.url, None, "ranger")
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: len(win.samples) >= 60, timeout=10000)
        assert win.span_buttons.buttons() == [] and win.span.live
        assert "GET /api/meta" in win.vocab_note.text() and "meta is down" in win.vocab_note.text()
        assert win.vocab_note.isVisible()
        qtbot.wait(300)  # let the page lay out the facts before the picture
        win.grab().save("/tmp/uivocab_desktop_node_no_meta.png")
        win.close()
    finally:
        proxy.close()


def drag(widget, a, b) -> None:
    """A left-button drag from a to b as Qt delivers it (QTest's mouseMove carries no buttons)."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    def send(kind, p, buttons):
        local = QPointF(p)
        QApplication.sendEvent(widget, QMouseEvent(kind, local, QPointF(widget.mapToGlobal(p)), Qt.LeftButton,
                                                   buttons, Qt.NoModifier))
    send(QEvent.MouseButtonPress, a, Qt.LeftButton)
    for i in range(1, 11):
        send(QEvent.MouseMove, a + (b - a) * (i / 10), Qt.LeftButton)
    send(QEvent.MouseButtonRelease, b, Qt.NoButton)


def test_drag_zooms_every_chart_into_a_stretch_of_time_and_reset_zoom_returns(qtbot, sim_hub):
    from PySide6.QtCore import QPoint
    from forge_desktop.ui.node_window import NodeWindow
    push(sim_hub, "zoomer", count=200)
    win = NodeWindow(sim_hub.url, None, "zoomer")
    qtbot.addWidget(win)
    win.resize(1100, 800)
    win.show()
    qtbot.waitUntil(lambda: len(win.samples) >= 200, timeout=10000)
    view = win.mem_chart.plot_widget.viewport()
    rect = win.mem_chart.plot.getViewBox().sceneBoundingRect()
    y = int(rect.center().y())
    a, b = QPoint(int(rect.left() + rect.width() * 0.6), y), QPoint(int(rect.left() + rect.width() * 0.9), y)
    drag(view, a, b)
    qtbot.waitUntil(lambda: win.zoomed, timeout=3000)
    for chart in (win.cpu_chart, win.disk_chart, win.load_chart):  # the time axes are linked
        lo, hi = chart.plot.viewRange()[0]
        assert hi - lo < 0.5 * 300
    assert win.mem_chart.plot.viewRange()[1][1] == pytest.approx(102, abs=1)  # memory keeps its 0-100 % axis
    assert win.reset_zoom.isVisible() and win.cpu_chart.cursor.isVisible()
    qtbot.wait(1200)  # a redraw does not undo the zoom
    assert win.cpu_chart.plot.viewRange()[0][1] - win.cpu_chart.plot.viewRange()[0][0] < 0.5 * 300
    win.reset_zoom.click()
    lo, hi = win.cpu_chart.plot.viewRange()[0]
    assert hi - lo == pytest.approx(300, abs=1) and not win.zoomed


def test_with_gaps_marks_each_silence_longer_than_three_steps():
    from forge_desktop.ui.node_window import with_gaps
    steady = [{"ts": float(t)} for t in range(10)]
    assert with_gaps(steady, 1) == steady
    assert with_gaps([{"ts": 0.0}, {"ts": 3.0}], 1) == [{"ts": 0.0}, {"ts": 3.0}], "three steps is no gap"
    assert with_gaps([{"ts": 0.0}, {"ts": 60.0}, {"ts": 61.0}, {"ts": 400.0}], 60) == \
        [{"ts": 0.0}, {"ts": 60.0}, {"ts": 61.0}, {"ts": 121.0}, {"ts": 400.0}]
    assert with_gaps([], 1) == []


def test_node_window_breaks_its_curves_where_the_node_was_silent(qtbot, sim_hub, artifacts):
    """Two minutes without samples are a gap in every line, not a straight line across them."""
    import math
    import numpy as np
    from forge_desktop.ui.node_window import NodeWindow
    now = time.time()
    push(sim_hub, "gappy", count=30, end=now - 150)
    push(sim_hub, "gappy", count=30, end=now)
    win = NodeWindow(sim_hub.url, None, "gappy")
    qtbot.addWidget(win)
    win.resize(1100, 860)
    win.show()
    qtbot.waitUntil(lambda: len(win.samples) >= 60, timeout=10000)
    for name in ("cpu", "mem", "read"):
        xs, ys = win.curves[name].xData, win.curves[name].yData
        holes = [i for i, y in enumerate(ys) if math.isnan(y)]
        assert len(holes) == 1 and len(ys) == 61, (name, holes, len(ys))
        i = holes[0]
        assert xs[i - 1] < xs[i] < xs[i + 1] and xs[i + 1] - xs[i - 1] > 100, name
    cells = win.heat.image  # the per-core strip: a column a second, the silence empty
    assert 175 <= cells.shape[0] <= 185 and cells.shape[1] == 8
    assert np.isnan(cells[40:140]).all() and (cells[:30] > 0).any() and (cells[-30:] > 0).any()
    qtbot.wait(300)
    win.grab().save(str(artifacts / "desktop_node_gap.png"))


def test_heat_cells_place_sparse_samples_in_time_and_isolated_points_are_found():
    """A node that reported once a day for 20 days: its strip spans the 20 days (wider columns,
    each sample in the one of its time), and each lone point is one the line cannot draw."""
    import numpy as np
    from forge_desktop.ui.node_window import MAX_HEAT_COLUMNS, heat_cells, isolated
    ts = np.array([86400.0 * d for d in range(20)])
    cores = np.array([[float(d), 50.0] for d in range(20)])
    t0, width, cells = heat_cells(ts, cores, 3600)
    assert t0 == 0.0 and width % 3600 == 0 and len(cells) <= MAX_HEAT_COLUMNS
    assert len(cells) * width >= 19 * 86400, "the strip covers the whole span"
    filled = [i for i in range(len(cells)) if np.isfinite(cells[i]).all()]
    assert [round(i * width / 86400) for i in filled] == list(range(20)) and cells[filled[7]][0] == 7.0
    t0, width, cells = heat_cells(np.arange(5.0), np.ones((5, 2)), 1)
    assert width == 1 and cells.shape == (5, 2), "dense samples keep a column a step"
    nan = float("nan")
    assert isolated(np.array([1.0, nan, 2.0, 3.0, nan, 4.0])).tolist() == [True, False, False, False, False, True]
