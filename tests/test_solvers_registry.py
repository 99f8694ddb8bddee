"""The job-type registry: lookup, validation errors, the test-only sleep type, progress throttling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from forge_desktop.solvers import registry
from forge_contracts.jobtypes.payload import PayloadError
from forge_desktop.solvers.progress import ProgressThrottle, relative_gap

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_registry_import_loads_no_solver_library():
    done = run_python("import sys, json, forge_desktop.solvers.registry as r;"
                      "print(json.dumps({m: m in sys.modules for m in ('ortools', 'highspy', 'numpy')}))")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ortools": False, "highspy": False, "numpy": False}


def test_validation_of_every_type_loads_no_solver_library():
    code = ("import sys, forge_desktop.solvers.registry as r;"
            "r.validate('jobshop', {'jobs': [[[0, 1]]]});"
            "r.validate('prodplan', {'periods': 1, 'capacity': 5, 'items': [{'demand': [1]}]});"
            "r.validate('mps', {'model': 'Maximize\\n obj: x\\nSubject To\\n c: x <= 1\\nEnd\\n'});"
            "print('ortools' in sys.modules or 'highspy' in sys.modules)")
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_known_types_and_test_only_flag():
    assert set(registry.REGISTRY) == {"jobshop", "prodplan", "mps", "sleep"}
    assert registry.get("sleep").test_only
    assert not any(registry.get(name).test_only for name in ("jobshop", "prodplan", "mps"))
    assert all(t.description for t in registry.REGISTRY.values())


def test_unknown_type_is_a_clear_key_error():
    with pytest.raises(KeyError, match="unknown job type 'shell'.*jobshop"):
        registry.get("shell")
    with pytest.raises(KeyError):
        registry.validate("shell", {})


def test_payload_must_be_an_object():
    with pytest.raises(PayloadError) as err:
        registry.validate("jobshop", [[0, 1]])
    assert err.value.field == "payload"
    assert "JSON object" in err.value.reason


def test_payload_error_reads_field_then_reason():
    error = PayloadError("payload.capacity", "must be a positive number or a list of T numbers")
    assert str(error) == "payload.capacity: must be a positive number or a list of T numbers"
    assert isinstance(error, ValueError)


def test_misspelt_option_is_refused_but_metadata_is_kept_out_of_the_way():
    with pytest.raises(PayloadError) as err:
        registry.validate("sleep", {"seconds": 1, "secnds": 2})
    assert err.value.field == "payload.secnds"
    assert registry.validate("sleep", {"seconds": 0, "name": "demo"})["seconds"] == 0


@pytest.mark.parametrize("payload, field", [
    ({"seconds": -1}, "payload.seconds"),
    ({"seconds": "5"}, "payload.seconds"),
    ({"seconds": True}, "payload.seconds"),
    ({"seconds": 1e9}, "payload.seconds"),
    ({"seconds": 1, "fail": "yes"}, "payload.fail"),
    ({"seconds": 1, "crash": 1}, "payload.crash"),
])
def test_sleep_validation(payload, field):
    with pytest.raises(PayloadError) as err:
        registry.validate("sleep", payload)
    assert err.value.field == field


def test_sleep_succeeds_and_reports_percent():
    events: list[dict] = []
    result = registry.solve("sleep", {"seconds": 0.2}, progress=events.append)
    assert result == {"slept": 0.2}
    assert events and all(0 <= e["percent"] <= 100 for e in events)
    assert set(events[0]) >= {"incumbent", "bound", "gap", "elapsed", "percent"}


def test_sleep_fail_raises():
    with pytest.raises(RuntimeError, match="asked to fail"):
        registry.solve("sleep", {"seconds": 0, "fail": True})


def test_sleep_crash_kills_its_process_with_code_3():
    done = run_python("from forge_desktop.solvers import registry;"
                      "registry.solve('sleep', {'seconds': 0, 'crash': True}); print('survived')")
    assert done.returncode == 3
    assert "survived" not in done.stdout


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_throttle_reports_at_most_once_per_interval():
    clock = FakeClock()
    events: list[dict] = []
    throttle = ProgressThrottle(events.append, interval=1.0, clock=clock)
    for step in range(30):
        clock.now += 0.1
        throttle.report(100.0 - step, 50.0)
    assert 3 <= len(events) <= 4
    assert events[0]["incumbent"] == 100.0 and events[0]["gap"] == pytest.approx(0.5)
    throttle.report(1.0, 1.0, force=True)
    assert events[-1]["gap"] == 0.0 and events[-1]["elapsed"] == pytest.approx(3.0)


def test_throttle_hides_infinite_bounds():
    events: list[dict] = []
    ProgressThrottle(events.append).report(float("inf"), float("-inf"))
    assert events[0]["incumbent"] is None and events[0]["bound"] is None and events[0]["gap"] is None
    assert relative_gap(None, 3.0) is None
