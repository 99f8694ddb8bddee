"""The native fleet window against a real hub process and real agent processes.

GIVEN N agents pushing to a hub, THEN the fleet window shows N cards and keeps
updating them from the SSE stream; double-clicking a card opens a node window with
a row per core in its heat strip and a cell per core in its grid (issue 15: not a plot per core).
"""
from __future__ import annotations

import pytest

from conftest import wait_until

pytest.importorskip("pytestqt")

AGENTS = ("alpha", "bravo", "charlie")


@pytest.fixture
def fleet_hub(live_hub):
    hub = live_hub()
    for node in AGENTS:
        hub.start_agent(node, "--jobs", "never", "--push-interval", "1")
    wait_until(lambda: set(AGENTS) <= set(hub.fleet()), 20, what="all agents in the fleet")
    return hub


def test_fleet_window_shows_a_card_per_agent_and_updates_them(qtbot, fleet_hub, artifacts):
    from forge_desktop.ui.fleet_window import FleetWindow
    win = FleetWindow(fleet_hub.url, None)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: set(win.cards) == set(AGENTS), timeout=20000)
    assert len(win.cards) == len(AGENTS)
    first = {n: win.models[n].summary["last_sample_ts"] for n in AGENTS}
    spark_len = {n: len(win.models[n].spark) for n in AGENTS}

    qtbot.waitUntil(lambda: all(win.models[n].summary["last_sample_ts"] > first[n] for n in AGENTS),
                    timeout=30000)
    # a spark point per push: agents push every 5 s, so allow a few pushes on a loaded machine
    qtbot.waitUntil(lambda: all(len(win.models[n].spark) > spark_len[n] or spark_len[n] == 30 for n in AGENTS),
                    timeout=15000)
    win.flush()
    card = win.cards["alpha"]
    assert card.name.text() == "alpha"
    assert card.status.text() == "online"
    assert card.load.text().startswith("CPU ")
    assert len(card.spark.points) == len(win.models["alpha"].spark)
    assert not card.spark.line.isEmpty()
    assert "3 nodes" in win.summary.text()
    win.grab().save(str(artifacts / "desktop_fleet_window.png"))


def test_double_click_opens_a_node_window_with_a_row_per_core(qtbot, fleet_hub, artifacts):
    from PySide6.QtCore import Qt
    from forge_desktop.ui.fleet_window import FleetWindow
    from forge_desktop.ui.node_window import with_gaps
    win = FleetWindow(fleet_hub.url, None)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: "bravo" in win.cards, timeout=20000)
    qtbot.mouseDClick(win.cards["bravo"], Qt.LeftButton)
    assert len(win.node_windows) == 1
    node_win = win.node_windows[0]
    qtbot.addWidget(node_win)
    cores = fleet_hub.fleet()["bravo"]["cores"]
    # An agent's first sample after priming may carry no per-core figures (null, not 0 %):
    # the strip fills once one does.
    qtbot.waitUntil(lambda: len(node_win.samples) > 0 and node_win.heat.image is not None, timeout=20000)
    assert node_win.heat.image.shape[1] == cores
    assert [node_win.core_grid.cell_text(i).split(":")[0] for i in range(cores)] == [str(i) for i in range(cores)]
    shown = len(node_win.samples)
    qtbot.waitUntil(lambda: len(node_win.samples) >= max(shown + 1, 8), timeout=30000)
    ts = [s["ts"] for s in node_win.samples]  # the strip: a column a second, each sample in its own
    assert node_win.heat.image.shape[0] == round(ts[-1] - ts[0]) + 1
    assert all(v == v for v in node_win.heat.image[-1]), "the newest column holds the newest sample"
    xs, ys = node_win.curves["cpu"].getData()  # every sample, and a break after each silence of over 3 s
    assert list(xs) == [s["ts"] for s in with_gaps(node_win.samples, node_win.span.step)]
    assert node_win.curves["mem"].getData()[1] is not None
    node_win.grab().save(str(artifacts / "desktop_node_window.png"))

    with qtbot.waitSignal(node_win.data_shown, timeout=10000):
        node_win.span_buttons.button(1).click()
    assert node_win.span.label == "1 h" and node_win.span.live and node_win.stream is not None  # 1 h follows the stream


def test_long_runs_do_not_exhaust_none_or_true(qtbot):
    """PySide6 6.12 on CPython 3.11 drops a reference to None per void call and to True per emit;
    a fleet window makes that many calls within a minute. Importing forge_desktop.ui must guard it."""
    import sys
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QLabel
    import forge_desktop.ui  # noqa: F401

    class Ticker(QObject):
        tick = Signal(object)

    ticker, label = Ticker(), QLabel()
    qtbot.addWidget(label)
    seen = []
    ticker.tick.connect(seen.append)
    before = {"None": sys.getrefcount(None), "True": sys.getrefcount(True)}
    for i in range(50000):
        ticker.tick.emit(i)
        label.setText(str(i))
    assert len(seen) == 50000 and label.text() == "49999"
    for name, obj in (("None", None), ("True", True)):
        after = sys.getrefcount(obj)
        assert after >= before[name] - 1000 or after > 1 << 39, f"{name} lost {before[name] - after} references"
