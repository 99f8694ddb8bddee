"""The native node and fleet windows show what a schema 2 agent sends (issue 16): the top
processes, GPUs, per-disk and per-interface rates, containers; a schema 1 node looks as before.

No GPU or container engine here: the samples come from tests/fixtures/samples/ (a
workstation with two NVIDIA boards, two disks, three interfaces and five containers),
pushed to a real hub on loopback with a real node token, and the windows read that hub
as they read any other.
"""
from __future__ import annotations

import copy
import json
import time

import pytest

from conftest import FIXTURES, LiveHub, http
from test_desktop_views import drag

pytest.importorskip("pytestqt")

WORKSTATION = json.loads((FIXTURES / "samples" / "schema2_gpu_workstation.json").read_text())


@pytest.fixture(scope="module")
def s2_hub(tmp_path_factory):
    hub = LiveHub(tmp_path_factory.mktemp("s2home"))
    hub.start_hub()
    hub.node_tokens = {}
    yield hub
    hub.close()


@pytest.fixture(autouse=True)
def light_theme():
    from forge_desktop.ui import theme
    theme.theme.set_mode("light", remember=False)
    yield
    theme.theme.set_mode("light", remember=False)


def push(hub, node_id: str, samples: list[dict], end: float | None = None, identity: dict | None = None) -> None:
    """`samples` one second apart ending at `end` (default now), in one ingest with the node's own token."""
    end = time.time() if end is None else end
    samples = copy.deepcopy(samples)
    for i, s in enumerate(samples):
        s["ts"] = end - (len(samples) - 1 - i)
    ident = dict(identity or WORKSTATION["node"], hostname=node_id)
    if node_id not in hub.node_tokens:
        hub.node_tokens[node_id] = hub.token(node_id)
    st, body = http("POST", f"{hub.url}/api/ingest/{node_id}", {"node": ident, "samples": samples},
                    token=hub.node_tokens[node_id])
    assert st == 200, body


def schema1(sample: dict) -> dict:
    """The same machine as a schema 1 agent sees it: none of the schema 2 sections."""
    s = {k: v for k, v in copy.deepcopy(sample).items() if k not in ("processes", "gpus", "containers", "sensors")}
    s["schema_version"] = 1
    s["disk"].pop("devices", None)
    s["net"].pop("interfaces", None)
    return s


def open_node(qtbot, hub, node_id: str, samples: int):
    from forge_desktop.ui.node_window import NodeWindow
    win = NodeWindow(hub.url, None, node_id)
    qtbot.addWidget(win)
    win.resize(1100, 860)
    win.show()
    qtbot.waitUntil(lambda: len(win.samples) >= samples, timeout=10000)
    return win


def every_row_in_view(view) -> bool:
    last = view.model().rowCount() - 1
    return view.rowViewportPosition(last) + view.rowHeight(last) <= view.viewport().height()


def column(view, col: int) -> list[str]:
    model = view.model()
    return [model.index(r, col).data() for r in range(model.rowCount())]


def test_node_window_shows_processes_gpus_disks_interfaces_and_containers(qtbot, s2_hub, artifacts):
    from PySide6.QtCore import QPoint, Qt
    from forge_desktop.ui import processes as pr, theme
    from forge_desktop.ui.containers import CPU as C_CPU, NAME as C_NAME, STATE
    from forge_desktop.ui.charts import rate
    from forge_desktop.ui.tables import BAR_ROLE
    push(s2_hub, "gpubox", WORKSTATION["samples"])
    win = open_node(qtbot, s2_hub, "gpubox", len(WORKSTATION["samples"]))
    newest = next(s for s in reversed(WORKSTATION["samples"]) if "processes" in s)["processes"]

    panel = win.process_panel
    assert panel.isVisible()
    view = panel.table
    assert view.model().rowCount() == len(newest)
    by_cpu = sorted(newest, key=lambda p: -p["cpu_percent"])
    assert column(view, pr.NAME)[:3] == [p["name"] for p in by_cpu[:3]]
    assert column(view, pr.CPU)[0] == f"{by_cpu[0]['cpu_percent']:.1f} %"
    # the bar is the share of the whole machine: 8 cores
    assert view.model().index(0, pr.CPU).data(BAR_ROLE) == pytest.approx(by_cpu[0]["cpu_percent"] / 800)
    qtbot.mouseClick(view.horizontalHeader().viewport(), Qt.LeftButton,
                     pos=_section_centre(view.horizontalHeader(), pr.MEMORY))
    order = view.horizontalHeader().sortIndicatorOrder()
    rss = [p["rss"] for p in sorted(newest, key=lambda p: p["rss"], reverse=order == Qt.DescendingOrder)]
    assert view.horizontalHeader().sortIndicatorSection() == pr.MEMORY
    shown_rss = [view.model().index(r, pr.MEMORY).data(pr.SORT_ROLE) for r in range(len(newest))]
    assert shown_rss == rss
    view.sortByColumn(pr.MEMORY, Qt.DescendingOrder)
    assert column(view, pr.NAME)[0] == max(newest, key=lambda p: p["rss"])["name"]
    # the command line is the tooltip, shown literally (a process may name itself in HTML)
    rows = {column(view, pr.PID)[r]: r for r in range(len(newest))}
    evil = next(p for p in newest if p["name"].startswith("<"))
    tip = view.model().index(rows[str(evil["pid"])], pr.NAME).data(Qt.ToolTipRole)
    assert tip == theme.plain_tip(evil["cmdline"]) and "<img" not in tip
    trainer = by_cpu[0]
    assert view.model().index(rows[str(trainer["pid"])], pr.COMMAND).data(Qt.ToolTipRole) == \
        theme.plain_tip(trainer["cmdline"])
    kernel = next(p for p in newest if p["cmdline"] is None)
    assert "no command line" in view.model().index(rows[str(kernel["pid"])], pr.NAME).data(Qt.ToolTipRole)

    gpus = win.gpu_section
    assert gpus.isVisible() and len(gpus.cards) == 2
    last = WORKSTATION["samples"][-1]
    card0, card1 = gpus.cards["nvidia:0"], gpus.cards["nvidia:1"]
    assert card0.name.text() == "GPU 0 · NVIDIA GeForce RTX 4090 · nvidia"
    assert card0.util.readout.text() == f"now {last['gpus'][0]['util_percent']:.1f} %"
    assert card0.mem.readout.text() == "now 19.0 GB of 24.0 GB"
    assert card0.power.readout.text() == f"now {last['gpus'][0]['power_w']:.0f} W"
    assert card1.power.readout.text() == "not reported by this GPU"
    xs, ys = card0.curves["util_percent"].getData()
    assert len(xs) == len(win.samples) and ys[-1] == last["gpus"][0]["util_percent"]

    assert win.disk_section.isVisible() and sorted(win.disk_section.small) == ["nvme0n1", "sda"]
    nvme = win.disk_section.small["nvme0n1"][0]
    dev = last["disk"]["devices"][0]
    assert nvme.readout.text() == f"read {rate(dev['read_bps'])} · write {rate(dev['write_bps'])} · busy 12 %"
    assert sorted(win.net_section.small) == ["enp5s0", "wg0", "wlp3s0"]
    assert win.net_section.small["wg0"][0].readout.text().endswith("· link down")
    # every device chart shows the window's time range, and zooming one zooms them all
    lo, hi = win.cpu_chart.plot.viewRange()[0]
    for chart in win.all_charts():
        assert chart.plot.viewRange()[0] == pytest.approx([lo, hi], abs=0.5), chart.title.text()
    win.scroll.ensureWidgetVisible(nvme)
    rect = nvme.plot.getViewBox().sceneBoundingRect()
    y = int(rect.center().y())
    drag(nvme.plot_widget.viewport(), QPoint(int(rect.left() + rect.width() * 0.5), y),
         QPoint(int(rect.left() + rect.width() * 0.9), y))
    qtbot.waitUntil(lambda: win.zoomed, timeout=3000)
    zoomed = nvme.plot.viewRange()[0]
    assert zoomed[1] - zoomed[0] < 0.5 * (hi - lo)
    for chart in (win.cpu_chart, win.load_chart, card1.temp, win.net_section.small["wg0"][0]):
        assert chart.plot.viewRange()[0] == pytest.approx(zoomed, abs=0.5), chart.title.text()
    win.reset_zoom.click()
    assert card1.temp.plot.viewRange()[0][1] - card1.temp.plot.viewRange()[0][0] == pytest.approx(300, abs=1)

    boxes = win.container_panel
    assert boxes.isVisible()
    cview = boxes.table
    assert cview.model().rowCount() == 5
    assert column(cview, STATE) == ["running", "running", "running", "paused", "exited"]
    builder = column(cview, C_NAME).index("builder")
    assert column(cview, C_CPU)[builder] == "180.0 %"
    assert cview.model().index(builder, C_CPU).data(BAR_ROLE) == pytest.approx(180 / 800)
    assert boxes.readout.text().startswith("3 running of 5")
    assert every_row_in_view(cview)

    # live: a new process list arrives with the next sample that carries one
    nxt = copy.deepcopy(WORKSTATION["samples"][-1])
    nxt["processes"] = [{"pid": 9999, "name": "stress-ng", "user": "dave", "cpu_percent": 790.0, "rss": 1 << 20,
                         "cmdline": "stress-ng --cpu 8"}, *newest]
    push(s2_hub, "gpubox", [nxt])
    view.sortByColumn(pr.CPU, Qt.DescendingOrder)
    qtbot.waitUntil(lambda: column(view, pr.NAME)[:1] == ["stress-ng"], timeout=10000)
    assert view.model().rowCount() == len(newest) + 1
    qtbot.waitUntil(lambda: every_row_in_view(view), timeout=3000)  # the page scrolls, the table does not

    win.scroll.verticalScrollBar().setValue(0)
    win.page.grab().save(str(artifacts / "desktop_node_schema2.png"))
    theme.theme.set_mode("dark", remember=False)
    qtbot.wait(100)
    win.page.grab().save(str(artifacts / "desktop_node_schema2_dark.png"))


def _section_centre(header, section: int):
    from PySide6.QtCore import QPoint
    return QPoint(header.sectionViewportPosition(section) + header.sectionSize(section) // 2, header.height() // 2)


def test_a_schema1_node_window_has_no_schema2_sections(qtbot, s2_hub, artifacts):
    push(s2_hub, "plain", [schema1(s) for s in WORKSTATION["samples"]])
    win = open_node(qtbot, s2_hub, "plain", len(WORKSTATION["samples"]))
    for part in (win.process_panel, win.container_panel, win.gpu_section, win.disk_section, win.net_section):
        assert part.isHidden(), type(part).__name__
    assert not win.gpu_section.cards and not win.disk_section.small and not win.net_section.small
    assert len(win.all_charts()) == len(win.charts)
    assert win.disk_chart.isVisible() and win.net_chart.isVisible()
    qtbot.wait(200)  # the page lays out the facts and the core grid once their text is in
    win.page.grab().save(str(artifacts / "desktop_node_schema1.png"))


def test_fleet_cards_show_gpu_use_and_the_busiest_process(qtbot, s2_hub, artifacts):
    from PySide6.QtCore import QSettings
    from forge_desktop.ui import theme
    from forge_desktop.ui.fleet_window import TABLE_COLUMNS, FleetWindow
    QSettings("Forge", "forge-desktop").setValue("fleet/view", "cards")
    push(s2_hub, "rig", WORKSTATION["samples"])
    push(s2_hub, "oldie", [schema1(s) for s in WORKSTATION["samples"]])
    win = FleetWindow(s2_hub.url, None)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: {"rig", "oldie"} <= set(win.cards), timeout=10000)
    win.flush()
    last = WORKSTATION["samples"][-1]
    mean = sum(g["util_percent"] for g in last["gpus"]) / len(last["gpus"])
    top = max(next(s for s in reversed(WORKSTATION["samples"]) if "processes" in s)["processes"],
              key=lambda p: p["cpu_percent"])
    rig, oldie = win.cards["rig"], win.cards["oldie"]
    assert rig.gpu_text.isVisible() and rig.gpu_text.text() == f"GPU {mean:.0f} %"
    assert rig.gpu_bar.value == pytest.approx(mean, abs=0.05)
    assert f"busiest process: {top['name']} ({top['cpu_percent']:.0f} % of one core)" in rig.toolTip()
    assert not oldie.gpu_text.isVisible() and not oldie.gpu_bar.isVisible()
    assert oldie.toolTip() == "Double-click for this node's charts"
    assert rig.spark.height() < oldie.spark.height() and rig.height() == oldie.height()  # the same card size

    # the next process list reaches the card through the fleet stream
    nxt = copy.deepcopy(last)
    nxt["processes"] = [{"pid": 7, "name": "<i>miner</i>", "user": "x", "cpu_percent": 777.0, "rss": 1,
                         "cmdline": "miner"}]
    push(s2_hub, "rig", [nxt])
    qtbot.waitUntil(lambda: "miner" in rig.toolTip(), timeout=10000)
    assert "busiest process: &lt;i&gt;miner&lt;/i&gt; (777 % of one core)" in rig.toolTip()  # shown literally
    win.grab().save(str(artifacts / "desktop_fleet_schema2.png"))
    theme.theme.set_mode("dark", remember=False)
    qtbot.wait(100)
    win.grab().save(str(artifacts / "desktop_fleet_schema2_dark.png"))

    win.set_table_view(True)
    gpu_col = TABLE_COLUMNS.index("GPU")
    rows = {win.table.item(r, 1).text(): r for r in range(win.table.rowCount())}
    assert win.table.item(rows["rig"], gpu_col).text() == f"{mean:.0f} %"
    assert win.table.item(rows["oldie"], gpu_col).text() == "–"
    win.set_table_view(False)


def test_longer_ranges_keep_the_hubs_newest_process_list(qtbot, s2_hub):
    """The 1-minute tier holds no process lists; the table shows the snapshot's `processes` (the
    newest list the hub holds) on every range."""
    from forge_desktop.ui import processes as pr
    push(s2_hub, "ranger", WORKSTATION["samples"])
    win = open_node(qtbot, s2_hub, "ranger", len(WORKSTATION["samples"]))
    six_hours = next(i for i, span in enumerate(win.spans) if span.label == "6 h")
    with qtbot.waitSignal(win.data_shown, timeout=10000):
        win.span_buttons.button(six_hours).click()
    assert win.span.resolution == "1m"
    newest = next(s for s in reversed(WORKSTATION["samples"]) if "processes" in s)
    assert win.process_panel.isVisible()
    assert sorted(column(win.process_panel.table, pr.PID)) == sorted(str(p["pid"]) for p in newest["processes"])
    assert win.process_panel.readout.text().startswith(f"top {len(newest['processes'])} at ")


def test_device_lines_follow_names_not_positions():
    """A disk that vanishes leaves its own line, not its place to the next one; a GPU read from
    an averaged tier (index 0.0) is the same GPU as index 0."""
    import math
    from forge_desktop.ui.devices import _disks, _gpus, _name, device_series, gpu_key
    samples = [{"disk": {"devices": [{"name": "sda", "read_bps": 1.0}, {"name": "nvme0n1", "read_bps": 5.0}]}},
               {"disk": {"devices": [{"name": "nvme0n1", "read_bps": 6.0}]}}]
    found = device_series(samples, _disks, _name, ("read_bps",))
    assert list(found["nvme0n1"].columns["read_bps"]) == [5.0, 6.0]
    assert found["sda"].columns["read_bps"][0] == 1.0 and math.isnan(found["sda"].columns["read_bps"][1])
    assert found["nvme0n1"].in_newest and not found["sda"].in_newest
    gpus = [{"gpus": [{"vendor": "nvidia", "index": 0, "util_percent": 10}]},
            {"gpus": [{"vendor": "nvidia", "index": 0.0, "util_percent": 20}]}]
    assert list(device_series(gpus, _gpus, gpu_key, ("util_percent",))) == ["nvidia:0"]
