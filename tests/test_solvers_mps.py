"""mps: hand-written LP and MIP models with known optima (checked by duality and brute force)."""

from __future__ import annotations

import itertools

import pytest

from forge_desktop.solvers import registry
from forge_contracts.jobtypes.mps import MAX_MODEL_BYTES
from forge_contracts.jobtypes.payload import PayloadError

# Chvatal, Linear Programming (1983), chapter 2: max 5x1+4x2+3x3, optimum 13 at (2, 0, 1).
CHVATAL_LP = """\\ Chvatal's first example
Maximize
 obj: 5 x1 + 4 x2 + 3 x3
Subject To
 c1: 2 x1 + 3 x2 + x3 <= 5
 c2: 4 x1 + x2 + 2 x3 <= 11
 c3: 3 x1 + 4 x2 + 2 x3 <= 8
End
"""
CHVATAL_RHS = {"c1": 5, "c2": 11, "c3": 8}

# A small integer program: min -3a - 2b - 4c s.t. a + b + 2c <= 4, 2a + c <= 5, b + 3c <= 7,
# a, b, c integer in [0, 3].
SMALL_MIP = """NAME          SMALLMIP
ROWS
 N  COST
 L  R1
 L  R2
 L  R3
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    A         COST        -3.0   R1           1.0
    A         R2           2.0
    B         COST        -2.0   R1           1.0
    B         R3           1.0
    C         COST        -4.0   R1           2.0
    C         R2           1.0   R3           3.0
    MARKER                 'MARKER'                 'INTEND'
RHS
    RHS       R1           4.0   R2           5.0
    RHS       R3           7.0
BOUNDS
 UP BND       A            3.0
 UP BND       B            3.0
 UP BND       C            3.0
ENDATA
"""


def brute_force_small_mip() -> float:
    return min(-3 * a - 2 * b - 4 * c for a, b, c in itertools.product(range(4), repeat=3)
               if a + b + 2 * c <= 4 and 2 * a + c <= 5 and b + 3 * c <= 7)


def test_lp_optimum_values_and_duals():
    result = registry.solve("mps", {"model": CHVATAL_LP, "format": "lp", "time_limit": 10})
    assert result["status"] == "optimal" and result["kind"] == "lp" and result["sense"] == "maximize"
    assert result["objective"] == pytest.approx(13)
    assert result["values"] == pytest.approx({"x1": 2, "x2": 0, "x3": 1})
    assert set(result["duals"]) == {"c1", "c2", "c3"}
    dual_objective = sum(CHVATAL_RHS[row] * dual for row, dual in result["duals"].items())
    assert abs(dual_objective) == pytest.approx(13)
    assert result["duals"]["c2"] == pytest.approx(0)
    assert result["gap"] == 0 and result["bound"] == pytest.approx(13)


def test_mip_optimum_matches_brute_force():
    events: list[dict] = []
    result = registry.solve("mps", {"model": SMALL_MIP, "time_limit": 10}, progress=events.append)
    assert result["status"] == "optimal" and result["kind"] == "mip"
    assert result["objective"] == pytest.approx(brute_force_small_mip())
    values = result["values"]
    assert all(float(v).is_integer() for v in map(round, values.values()))
    assert values["A"] + values["B"] + 2 * values["C"] <= 4 + 1e-9
    assert "duals" not in result
    assert events[-1]["incumbent"] == pytest.approx(result["objective"])


def test_format_is_detected_when_absent():
    assert registry.validate("mps", {"model": SMALL_MIP})["format"] == "mps"
    assert registry.validate("mps", {"model": CHVATAL_LP})["format"] == "lp"


def test_infeasible_model_has_no_values():
    model = "Minimize\n obj: x\nSubject To\n c1: x >= 3\n c2: x <= 1\nEnd\n"
    result = registry.solve("mps", {"model": model, "time_limit": 10})
    assert result["status"] in ("infeasible", "infeasible_or_unbounded")
    assert result["values"] == {} and result["objective"] is None


def test_unreadable_model_is_a_payload_error_at_solve():
    garbage = "Minimize\n obj: x +* 3\nSubject To\n c: x <= ,\nEnd\n"
    with pytest.raises(PayloadError) as err:
        registry.solve("mps", {"model": garbage, "format": "lp", "time_limit": 5})
    assert err.value.field == "payload.model"


@pytest.mark.parametrize("payload, field, fragment", [
    ({}, "payload.model", "non-empty text"),
    ({"model": "   "}, "payload.model", "non-empty text"),
    ({"model": 12}, "payload.model", "non-empty text"),
    ({"model": CHVATAL_LP, "format": "xls"}, "payload.format", "'mps' or 'lp'"),
    ({"model": "NAME X\nROWS\n N COST\nENDATA\n", "format": "mps"}, "payload.model", "COLUMNS section"),
    ({"model": "obj: x\nEnd\n", "format": "lp"}, "payload.model", "Minimize"),
    ({"model": CHVATAL_LP, "time_limit": -1}, "payload.time_limit", "positive"),
    ({"model": CHVATAL_LP, "mip_gap": "small"}, "payload.mip_gap", "number"),
    ({"model": CHVATAL_LP, "seed": -3}, "payload.seed", "at least 0"),
])
def test_bad_payload_names_the_field(payload, field, fragment):
    with pytest.raises(PayloadError) as err:
        registry.validate("mps", payload)
    assert err.value.field == field
    assert fragment in err.value.reason


def test_model_size_is_capped():
    huge = CHVATAL_LP + "\\" + "x" * MAX_MODEL_BYTES
    with pytest.raises(PayloadError) as err:
        registry.validate("mps", {"model": huge})
    assert err.value.field == "payload.model" and "at most" in err.value.reason
