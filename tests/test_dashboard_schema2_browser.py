"""Schema 2 in a real Chromium against one real hub process: the node page's process table
(sortable, live, command lines on hover), GPU cards, per-disk and per-interface charts and
the containers table; GPU use and the busiest process on the fleet's cards and table; and a
schema 1 node's page as before, without any of them."""
from __future__ import annotations

import os

import pytest

from conftest import LiveHub, shot, wait_until
from schema2_samples import hub_now, nvml_gpus, process, push, schema1, schema2

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's /usr/bin/chromium"),
]

PROCS = [process(4242, "python3", 99.5, 1 << 30, "python3 train.py --epochs 10 --data /srv/" + "x" * 150),
         process(311, "postgres", 12.0, 3 << 30, "postgres: checkpointer", user="postgres"),
         process(977, "chromium", 45.0, 512 << 20, "chromium --type=renderer"),
         process(12, "kworker/0:1", None, 0, cmdline="")]
DISKS = [{"name": "nvme0n1", "read_bps": 2.5e6, "write_bps": 1.1e6, "busy_percent": 12.5},
         {"name": "sda", "read_bps": 0.0, "write_bps": 40_000.0, "busy_percent": 0.4}]
NICS = [{"name": "eth0", "rx_bps": 1.2e6, "tx_bps": 300_000.0, "up": True},
        {"name": "wlan0", "rx_bps": 0.0, "tx_bps": 0.0, "up": False}]
CONTAINERS = [{"id": "3f1c2a9b7d4e", "name": "postgres", "image": "postgres:16", "state": "running",
               "cpu_percent": 50.0, "mem_used": 209715200},
              {"id": "9a8b7c6d5e4f", "name": "old-build", "image": "debian:12", "state": "exited",
               "cpu_percent": None, "mem_used": None}]


def full(ts: float, **kw) -> dict:
    """A schema 2 sample with every section this page shows (processes only when given)."""
    return schema2(ts, **{"gpus": nvml_gpus(), "disks": DISKS, "interfaces": NICS, "containers": CONTAINERS, **kw})


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A hub with `rig` (schema 2, every section, a minute of history) and `plain` (schema 1).
    The rig's process list is older than the 5-minute window, so only the snapshot's
    `processes` can fill the table when the page opens."""
    h = LiveHub(tmp_path_factory.mktemp("schema2-ui"))
    h.start_hub()
    now = hub_now(h)
    gpus = nvml_gpus()
    history = [schema2(now - 400, processes=PROCS, gpus=gpus, disks=DISKS, interfaces=NICS, containers=CONTAINERS)]
    for i in range(60):
        wave = [dict(gpus[0], util_percent=60.0 + (i % 20) * 1.5, power_w=250.0 + i), gpus[1]]
        disks = [dict(DISKS[0], read_bps=DISKS[0]["read_bps"] * (1 + i % 7)), DISKS[1]]
        history.append(schema2(now - 60 + i, cpu=20.0 + i % 30, gpus=wave, disks=disks, interfaces=NICS,
                               containers=CONTAINERS))
    push(h, "rig", h.token("rig"), history)
    h.rig_token = h.token("rig")
    push(h, "plain", h.token("plain"), [schema1(now - 60 + i, cpu=30.0) for i in range(60)])
    push(h, "single", h.token("single"), [schema2(now - 30 + i, gpus=[], containers=[]) for i in range(30)])  # one disk, one interface
    yield h
    h.close()


def pids(page) -> list[int]:
    return page.locator(".proc-table:not(.container-table) tbody tr").evaluate_all(
        "rs => rs.map(r => Number(r.dataset.pid))")


def test_processes_sort_by_cpu_and_memory_show_command_lines_and_follow_the_stream(hub, page, artifacts):
    page.goto(hub.url + "/#/node/rig")
    panel = page.locator(".proc-panel")
    panel.wait_for(state="visible", timeout=15_000)
    assert pids(page) == [4242, 977, 311, 12]  # CPU, busiest first; the unmeasured one last
    row = page.locator('.proc-table tr[data-pid="4242"]')
    assert row.get_attribute("title") == PROCS[0]["cmdline"]  # whole, where the cell cuts it
    assert row.locator("td").nth(3).inner_text().strip() == "99.5 %"
    cpu_head = page.locator('.proc-table th[data-col="cpu"]')
    assert cpu_head.get_attribute("aria-sort") == "descending"

    page.locator('.proc-table th[data-col="mem"] button').click()
    assert pids(page) == [311, 4242, 977, 12]
    page.locator('.proc-table th[data-col="mem"] button').click()
    assert pids(page) == [12, 977, 4242, 311]
    assert page.locator('.proc-table th[data-col="mem"]').get_attribute("aria-sort") == "ascending"
    assert cpu_head.get_attribute("aria-sort") == "none"
    page.locator('.proc-table th[data-col="cpu"] button').click()
    assert pids(page) == [4242, 977, 311, 12]

    # A sample with a new list arrives while the page is watched: the table follows without a reload.
    fresh = [process(5000, "ffmpeg", 180.0, 200 << 20, "ffmpeg -i in.mkv out.mp4"), PROCS[0]]
    push(hub, "rig", hub.rig_token, [full(hub_now(hub), processes=fresh)])
    wait_until(lambda: pids(page) == [5000, 4242], 10, what="the streamed process list")
    shot(page, artifacts, "node_processes")


def test_gpu_cards_device_charts_and_containers(hub, page, artifacts):
    page.goto(hub.url + "/#/node/rig")
    cards = page.locator(".gpu-card")
    cards.first.wait_for(state="visible", timeout=15_000)
    assert cards.count() == 2
    rtx = page.locator('.gpu-card[data-key="nvidia:0"]')
    assert "NVIDIA GeForce RTX 4090" in rtx.locator("h2").inner_text()
    assert rtx.locator(".stat", has_text="Memory").locator(".stat-v").inner_text() == "19 GiB / 24 GiB"
    assert rtx.locator(".stat", has_text="Temperature").locator(".stat-v").inner_text() == "71 °C"
    laptop = page.locator('.gpu-card[data-key="nvidia:1"]')
    assert laptop.locator(".stat", has_text="Power").locator(".stat-v").inner_text() == "unavailable"
    # Four charts a card, drawn by uPlot once it loads, with the history's points.
    wait_until(lambda: rtx.locator(".mini-chart canvas").count() == 4, 10, what="the GPU charts")
    legend = rtx.locator(".mini", has_text="Utilisation").locator(".u-legend .u-value").nth(1)
    wait_until(lambda: legend.inner_text().endswith("%") and legend.inner_text() != "–", 10, what="the utilisation legend")

    disks = page.locator(".devices-detail", has_text="Per disk").locator(".mini")
    assert disks.evaluate_all("ms => ms.map(m => m.dataset.key)") == ["nvme0n1", "sda"]
    assert disks.first.locator(".mini-extra").inner_text() == "busy 12.5 %"
    nics = page.locator(".devices-detail", has_text="Per interface").locator(".mini")
    assert nics.evaluate_all("ms => ms.map(m => m.dataset.key)") == ["eth0", "wlan0"]
    assert nics.nth(1).locator(".mini-extra").inner_text() == "link down"
    wait_until(lambda: page.locator(".devices-detail .mini-chart canvas").count() == 4, 10, what="device charts")

    rows = page.locator(".container-table tbody tr")
    assert rows.evaluate_all("rs => rs.map(r => [r.dataset.container, r.dataset.state])") == [
        ["3f1c2a9b7d4e", "running"], ["9a8b7c6d5e4f", "exited"]]
    running_cpu = rows.first.locator("td").nth(3)
    assert running_cpu.inner_text().strip() == "50.0 %"
    # 50 % of one core on a 2-core machine: a quarter of the bar.
    share = running_cpu.locator(".bar i").evaluate(
        "i => i.getBoundingClientRect().width / i.parentNode.getBoundingClientRect().width")
    assert share == pytest.approx(0.25, abs=0.01)
    assert rows.nth(1).locator("td").nth(4).inner_text().strip() == "–"
    assert page.locator(".container-panel .panel-extra").inner_text() == "1 running of 2"
    shot(page, artifacts, "node_gpus_devices_containers")

    # On a phone the page stays one column wide: no table or chart pushes it sideways.
    page.set_viewport_size({"width": 420, "height": 860})
    wait_until(lambda: page.evaluate("document.documentElement.scrollWidth") <= 420, 5, what="the narrow layout")
    shot(page, artifacts, "node_schema2_narrow")


def test_schema_1_node_page_has_no_schema_2_parts(hub, page, artifacts):
    page.goto(hub.url + "/#/node/plain")
    page.locator(".chart canvas").first.wait_for(timeout=15_000)
    wait_until(lambda: "points" in page.locator(".range-note").inner_text(), 10, what="the history")
    for part in (".proc-panel", ".gpu-cards", ".container-panel", ".devices-detail"):
        assert page.locator(part).evaluate_all("es => es.every(e => e.hidden)"), part
    assert page.locator(".panel:visible").count() == 5  # CPU, memory, disk, network, load: as before
    shot(page, artifacts, "node_schema1")


def test_one_disk_and_one_interface_get_no_chart_repeating_the_total(hub, page):
    page.goto(hub.url + "/#/node/single")
    page.locator(".chart canvas").first.wait_for(timeout=15_000)
    wait_until(lambda: "busy 1.5 %" in page.locator(".panel", has_text="Disk").locator(".panel-extra").inner_text(), 10,
               what="the one disk's busy time beside the totals")
    assert page.locator(".devices-detail").evaluate_all("es => es.every(e => e.hidden)")
    assert page.locator(".uplot").count() == 5
    assert page.locator(".proc-panel").is_hidden()  # no list yet: this node's samples carried none


def test_fleet_card_and_table_show_gpu_use_and_the_busiest_process(hub, page, artifacts):
    page.goto(hub.url + "/#/fleet")
    rig = page.locator('.card[data-node="rig"]')
    rig.wait_for(timeout=15_000)
    gpu = rig.locator(".metric.gpu")
    wait_until(lambda: gpu.is_visible() and gpu.locator(".val").inner_text() == "44 %", 10, what="the GPU row")
    top = hub.fleet()["rig"]["top_process"]  # the other tests may have sent a newer list
    assert f"Busiest process: {top['name']} ({top['cpu_percent']:.1f} % of one core)" in rig.get_attribute("title")
    plain = page.locator('.card[data-node="plain"]')
    assert plain.locator(".metric.gpu").count() == 0 and "Busiest" not in plain.get_attribute("title")
    shot(page, artifacts, "fleet_cards_gpu")

    page.get_by_role("button", name="Table").click()
    row = lambda n: page.locator(f'.fleet-table tr[data-node="{n}"]')  # noqa: E731
    wait_until(lambda: row("rig").locator('td[data-col="gpu"]').inner_text().strip() == "44 %", 10, what="the GPU cell")
    assert row("plain").locator('td[data-col="gpu"]').inner_text().strip() == "–"
    page.locator('.fleet-table th[data-col="gpu"] button').click()
    order = page.locator(".fleet-table tbody tr").evaluate_all("rs => rs.map(r => r.dataset.node)")
    assert order == ["rig", "plain", "single"]  # the one with a GPU, then the others by name
    shot(page, artifacts, "fleet_table_gpu")
