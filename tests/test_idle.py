"""Idle policy tests: decide() by table, the gate's hysteresis by timeline, platform parsers, this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime
from datetime import time as dtime
from pathlib import Path
from types import ModuleType

import psutil
import pytest

from forge_desktop.idle import (
    CPU_BUSY, IDLE, MODE_ALWAYS, MODE_NEVER, ON_BATTERY, OUTSIDE_HOURS, PAUSED, SETTLING,
    USER_ACTIVE, IdleGate, IdlePolicy, SystemInputs, decide, parse_hours,
)
from forge_desktop.platform import linux, macos, windows

FIXTURES = Path(__file__).parent / "fixtures" / "platform"
NOON = datetime(2026, 1, 5, 12, 0).timestamp()


@dataclass
class FakeInputs:
    """A user, a battery and the other processes, as the machine cannot provide them."""

    idle_s: float | None = 600.0
    battery: bool | None = None
    other_cpu: float = 5.0
    cores: int = 4

    def user_idle_seconds(self) -> float | None:
        return self.idle_s

    def on_battery(self) -> bool | None:
        return self.battery

    def other_cpu_percent(self) -> float:
        return self.other_cpu

    def logical_cores(self) -> int:
        return self.cores


def at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 1, 5, hour, minute).timestamp()


NIGHT = (dtime(22, 0), dtime(7, 0))
OFFICE = (dtime(9, 0), dtime(17, 0))

DECIDE_TABLE = [
    # (case, policy, inputs, now, run, reason, cores)
    ("idle desktop runs on all but one core", IdlePolicy(), FakeInputs(), NOON, True, IDLE, 3),
    ("input 179.9 s ago is too recent", IdlePolicy(), FakeInputs(idle_s=179.9), NOON, False, USER_ACTIVE, 0),
    ("input exactly 180 s ago is idle", IdlePolicy(), FakeInputs(idle_s=180.0), NOON, True, IDLE, 3),
    ("headless: no input source, quiet CPU", IdlePolicy(), FakeInputs(idle_s=None), NOON, True, IDLE, 3),
    ("headless: no input source, busy CPU", IdlePolicy(), FakeInputs(idle_s=None, other_cpu=30.0), NOON,
     False, CPU_BUSY, 0),
    ("other CPU at the limit is busy", IdlePolicy(), FakeInputs(other_cpu=25.0), NOON, False, CPU_BUSY, 0),
    ("other CPU just under the limit", IdlePolicy(), FakeInputs(other_cpu=24.9), NOON, True, IDLE, 3),
    ("user check comes before CPU check", IdlePolicy(), FakeInputs(idle_s=3.0, other_cpu=90.0), NOON,
     False, USER_ACTIVE, 0),
    ("on battery", IdlePolicy(), FakeInputs(battery=True), NOON, False, ON_BATTERY, 0),
    ("on battery allowed", IdlePolicy(run_on_battery=True), FakeInputs(battery=True), NOON, True, IDLE, 3),
    ("on mains", IdlePolicy(), FakeInputs(battery=False), NOON, True, IDLE, 3),
    ("pause overrides always", IdlePolicy(mode="always", paused=True), FakeInputs(), NOON, False, PAUSED, 0),
    ("pause overrides idle", IdlePolicy(paused=True), FakeInputs(), NOON, False, PAUSED, 0),
    ("pause reported before hours", IdlePolicy(paused=True, hours=OFFICE), FakeInputs(), at(20), False,
     PAUSED, 0),
    ("never even when idle", IdlePolicy(mode="never"), FakeInputs(), NOON, False, MODE_NEVER, 0),
    ("always ignores user and CPU", IdlePolicy(mode="always"), FakeInputs(idle_s=1.0, other_cpu=99.0), NOON,
     True, MODE_ALWAYS, 3),
    ("always still respects battery", IdlePolicy(mode="always"), FakeInputs(battery=True), NOON, False,
     ON_BATTERY, 0),
    ("always still respects hours", IdlePolicy(mode="always", hours=NIGHT), FakeInputs(), NOON, False,
     OUTSIDE_HOURS, 0),
    ("single core machine keeps its core", IdlePolicy(), FakeInputs(cores=1), NOON, True, IDLE, 1),
    ("max_cores caps", IdlePolicy(max_cores=2), FakeInputs(cores=8), NOON, True, IDLE, 2),
    ("max_cores cannot exceed the machine", IdlePolicy(max_cores=16), FakeInputs(cores=8), NOON, True, IDLE, 8),
    ("night window, late evening", IdlePolicy(hours=NIGHT), FakeInputs(), at(23, 30), True, IDLE, 3),
    ("night window, just before end", IdlePolicy(hours=NIGHT), FakeInputs(), at(6, 59), True, IDLE, 3),
    ("night window end is exclusive", IdlePolicy(hours=NIGHT), FakeInputs(), at(7, 0), False, OUTSIDE_HOURS, 0),
    ("night window, midday", IdlePolicy(hours=NIGHT), FakeInputs(), NOON, False, OUTSIDE_HOURS, 0),
    ("office window start is inclusive", IdlePolicy(hours=OFFICE), FakeInputs(), at(9, 0), True, IDLE, 3),
    ("office window, before", IdlePolicy(hours=OFFICE), FakeInputs(), at(8, 59), False, OUTSIDE_HOURS, 0),
    ("zero threshold never waits for the user", IdlePolicy(idle_after_s=0), FakeInputs(idle_s=0.0), NOON,
     True, IDLE, 3),
    ("custom CPU limit", IdlePolicy(max_other_cpu_percent=50), FakeInputs(other_cpu=40.0), NOON, True, IDLE, 3),
]


@pytest.mark.parametrize("case, policy, inputs, now, run, reason, cores", DECIDE_TABLE,
                         ids=[row[0] for row in DECIDE_TABLE])
def test_decide(case, policy, inputs, now, run, reason, cores):
    decision = decide(policy, inputs, now)
    assert (decision.run, decision.reason, decision.cores) == (run, reason, cores)
    assert decision.detail


def test_decide_explains_itself():
    assert "no input source" in decide(IdlePolicy(), FakeInputs(idle_s=None), NOON).detail
    assert "42s" in decide(IdlePolicy(), FakeInputs(idle_s=42.0), NOON).detail
    assert "22:00 and 07:00" in decide(IdlePolicy(hours=NIGHT), FakeInputs(), NOON).detail


@pytest.mark.parametrize("kwargs, field", [
    ({"mode": "sometimes"}, "mode"),
    ({"idle_after_s": -1}, "idle_after_s"),
    ({"max_other_cpu_percent": 0}, "max_other_cpu_percent"),
    ({"max_other_cpu_percent": 101}, "max_other_cpu_percent"),
    ({"max_cores": 0}, "max_cores"),
    ({"max_cores": True}, "max_cores"),
    ({"hours": (dtime(9), dtime(9))}, "hours"),
    ({"hours": ("09:00", "17:00")}, "hours"),
])
def test_bad_policy_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        IdlePolicy(**kwargs)


def test_parse_hours():
    assert parse_hours("22:00-07:00") == NIGHT
    assert parse_hours(" 09:00 - 17:30 ") == (dtime(9), dtime(17, 30))
    for bad in ("22:00", "25:00-07:00", "nine-five", "08:00-08:00"):
        with pytest.raises(ValueError, match="^hours:"):
            parse_hours(bad)


# --- hysteresis ------------------------------------------------------------------------


@dataclass
class ScriptedUser(FakeInputs):
    """A user whose idle time follows from the moment of their last input."""

    last_input: float = 0.0
    clock: float = 0.0

    def user_idle_seconds(self) -> float | None:
        return self.clock - self.last_input


def test_user_returning_suspends_at_once_and_resumes_after_threshold_again():
    gate = IdleGate(IdlePolicy())
    user = ScriptedUser(last_input=0.0)

    def step(t: float):
        user.clock = t
        return gate.update(user, t)

    assert step(300.0).run
    user.last_input = 1000.0
    assert step(1000.5).reason == USER_ACTIVE
    user.last_input = 1030.0  # still typing a little
    assert step(1100.0).reason == USER_ACTIVE
    assert step(1209.0).reason == USER_ACTIVE
    resumed = step(1210.0)
    assert resumed.run and resumed.reason == IDLE


@pytest.mark.parametrize("idle_s", [600.0, None], ids=["desktop", "headless"])
def test_busy_cpu_then_calm_waits_the_threshold_before_resuming(idle_s):
    gate = IdleGate(IdlePolicy())
    inputs = FakeInputs(idle_s=idle_s)
    assert gate.update(inputs, 0.0).run
    inputs.other_cpu = 30.0
    assert gate.update(inputs, 10.0).reason == CPU_BUSY
    inputs.other_cpu = 5.0
    assert gate.update(inputs, 11.0).reason == SETTLING
    inputs.other_cpu = 26.0
    assert gate.update(inputs, 100.0).reason == CPU_BUSY  # flapping restarts the wait
    inputs.other_cpu = 5.0
    assert gate.update(inputs, 279.0).reason == SETTLING
    assert gate.update(inputs, 280.0).run


def test_gate_pause_and_always_are_not_delayed():
    gate = IdleGate(IdlePolicy())
    inputs = FakeInputs(other_cpu=80.0)
    assert gate.update(inputs, 0.0).reason == CPU_BUSY
    gate.policy = replace(gate.policy, paused=True)
    assert gate.update(inputs, 1.0).reason == PAUSED
    gate.policy = IdlePolicy(mode="always")
    assert gate.update(inputs, 2.0).run


# --- platform sources from recorded outputs ---------------------------------------------


def test_ioreg_hid_idle_time_is_nanoseconds():
    text = (FIXTURES / "ioreg_iohidsystem.txt").read_text()
    assert macos.parse_hid_idle_seconds(text) == pytest.approx(254.031875)


def test_ioreg_without_hid_system_gives_none():
    assert macos.parse_hid_idle_seconds((FIXTURES / "ioreg_no_hid.txt").read_text()) is None
    assert macos.parse_hid_idle_seconds("") is None


def test_ioreg_several_hid_systems_take_the_most_recent_input():
    text = '"HIDIdleTime" = 9000000000\n"HIDIdleTime" = 2000000000\n'
    assert macos.parse_hid_idle_seconds(text) == 2.0


def test_loginctl_session_list():
    assert linux.parse_loginctl_list((FIXTURES / "loginctl_list_sessions.txt").read_text()) == ["2", "17", "c1"]
    assert linux.parse_loginctl_list("") == []


@pytest.mark.parametrize("fixture, expected", [
    ("loginctl_show_desktop_idle.txt", 300.0),  # ssh session busy, but nobody at the seat
    ("loginctl_show_desktop_active.txt", 0.0),
    ("loginctl_show_ssh_only.txt", None),
])
def test_logind_idle_from_recorded_sessions(fixture, expected):
    sessions = linux.parse_loginctl_show((FIXTURES / fixture).read_text())
    assert all("Id" in s for s in sessions)
    assert linux.idle_from_sessions(sessions, now=1764222860.0) == expected


def test_windows_tick_count_wraps_after_49_days():
    assert windows.elapsed_ms(5_000, 2_000) == 3_000
    assert windows.elapsed_ms(1_000, 2**32 - 1_000) == 2_000


def test_windows_source_is_none_off_windows():
    if sys.platform.startswith("win"):
        pytest.skip("the real source answers on Windows")
    assert windows.user_idle_seconds() is None


def test_cpu_topology_from_sysfs_tree(tmp_path):
    for cpu, (package, core) in {0: (0, 0), 1: (0, 4), 2: (0, 0), 10: (1, 2)}.items():
        topology = tmp_path / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "physical_package_id").write_text(f"{package}\n")
        (topology / "core_id").write_text(f"{core}\n")
    (tmp_path / "cpu3").mkdir()  # offline: no topology directory
    (tmp_path / "cpufreq").mkdir()
    assert linux.read_cpu_topology(tmp_path) == [(0, 0), (0, 4), (0, 0), (1, 2)]
    assert linux.read_cpu_topology(tmp_path / "missing") is None


# --- this machine -----------------------------------------------------------------------

BURN = "import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass\n"


def test_headless_machine_has_no_input_source():
    if os.environ.get("DISPLAY"):
        pytest.skip("a display is attached")
    inputs = SystemInputs()
    assert inputs.user_idle_seconds() is None
    assert inputs.on_battery() is None  # this VM has no battery
    decision = decide(IdlePolicy(), FakeInputs(idle_s=inputs.user_idle_seconds()), NOON)
    assert decision.run and "no input source" in decision.detail


def test_system_inputs_cpu_figure_is_a_percentage():
    inputs = SystemInputs()
    time.sleep(0.3)
    other = inputs.other_cpu_percent()
    assert 0.0 <= other <= 100.0
    assert other == pytest.approx(max(0.0, inputs.last_system_percent - inputs.last_own_percent))
    assert inputs.logical_cores() == os.cpu_count()


def test_our_own_solver_child_is_not_counted_as_other_load():
    inputs = SystemInputs()
    child = subprocess.Popen([sys.executable, "-c", BURN.format(seconds=1.5)])
    try:
        time.sleep(1.0)
        inputs.other_cpu_percent()
    finally:
        child.wait(timeout=10)
    share = 100.0 / inputs.logical_cores()
    # The child burns one core; on a shared machine it may get less than all of it.
    assert inputs.last_own_percent >= 0.4 * share


def test_a_stranger_process_counts_as_other_load():
    # The shell exits at once, so the burner is re-parented away from our process tree.
    inputs = SystemInputs()
    subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -c "$0" >/dev/null 2>&1 &', BURN.format(seconds=1.5)],
        check=True, timeout=10,
    )
    time.sleep(1.0)
    other = inputs.other_cpu_percent()
    share = 100.0 / inputs.logical_cores()
    assert other >= 0.4 * share
    assert inputs.last_own_percent < other
    time.sleep(0.6)  # let the stranger finish before the next test measures


def test_cpu_counts_as_busy_until_an_interval_was_measured():
    frozen = psutil.cpu_times(percpu=True)
    clockless = ModuleType("frozen_psutil")
    clockless.cpu_times = lambda percpu=False: frozen
    clockless.cpu_count = psutil.cpu_count
    clockless.Process, clockless.Error = psutil.Process, psutil.Error
    inputs = SystemInputs(clockless, idle_source=lambda: None)
    assert inputs.other_cpu_percent() == 100.0
    assert decide(IdlePolicy(), inputs, NOON).reason == CPU_BUSY


def test_failing_idle_source_reads_as_none():
    def broken() -> float:
        raise OSError("display went away")

    assert SystemInputs(idle_source=broken).user_idle_seconds() is None
