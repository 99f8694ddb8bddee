"""The LP-format reader of forge_contracts/jobtypes/lp_text.py, held against HiGHS itself: every model
it refuses, HiGHS refuses too (it never turns away a model the worker could solve), it names the
line and column, and on models HiGHS reads it counts the same rows and columns."""
from __future__ import annotations

import os
import tempfile

import highspy
import pytest

from forge_contracts.jobtypes.lp_text import MAX_SCAN_BYTES, scan_lp
from forge_contracts.jobtypes.payload import PayloadError
from forge_desktop.solvers import registry

HEAD = "Maximize\n obj: x + y\nSubject To\n"


def highs_reads(model: str) -> highspy.HighsLp | None:
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    fd, path = tempfile.mkstemp(suffix=".lp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(model)
        ok = highs.readModel(path) != highspy.HighsStatus.kError
    finally:
        os.unlink(path)
    return highs.getLp() if ok else None


@pytest.mark.parametrize("model, rows, columns, integers", [
    ("Maximize\n obj: 3 x\n + 2 y\nSubject To\n c1: x +\n y <= 4\n -x + y >= -2\nBounds\n x <= 3\n"
     " -inf <= y <= 2\nGenerals\n x\nEnd\n", 2, 2, 1),
    ("\\ a comment\nMAXIMIZE obj: 2x + y \\ trailing\nst\n c1 : x + y <= +4\n c2:\n x =< 3\n y => 1\nEnd\n", 3, 2, 0),
    ("Minimize\n obj: x + 3 * y + 7 + [ x ^ 2 + 2 x * y ] / 2\ns.t.\n c1: x + y >= 1\n c2: x - y <= inf\n"
     "Bounds\n x free\n y >= -Infinity\n 0 <= x\nBinary\n z\nSemi-continuous\n y\nEnd\n", 2, 3, 1),
    ("Maximize\n x_1 + y.2 + z#3 + a{b}\nSubject To\n x_1 + y.2 <= 1e+3\nEnd\n", 1, 4, 0),
    ("Minimize\n obj:\nSubject To\n c1: x + y >= 4\nGeneral\n x y\nBounds\n x <= 3\nEnd\n", 1, 2, 2),
])
def test_models_highs_reads_are_read_alike(model, rows, columns, integers):
    lp = highs_reads(model)
    assert lp is not None, "the case itself must be a model HiGHS reads"
    shape = scan_lp(model)
    assert (shape.rows, shape.columns) == (lp.num_row_, lp.num_col_) == (rows, columns)
    assert shape.integers == integers


@pytest.mark.parametrize("model, words", [
    (HEAD + " c1: x + y << 4\nEnd\n", "line 4, column 12: '<<' is not a comparison"),
    (HEAD + " c1: x + 2..5 y <= 4\nEnd\n", "line 4, column 12: '2..5' is not a number"),
    (HEAD + " c1: x + y <=\nEnd\n", "line 4, column 12: expected a number after '<=', found the end of Subject To"),
    (HEAD + " c1: x + y <= z\nEnd\n", "line 4, column 15: expected a number after '<=', found 'z'"),
    (HEAD + " c1: x + y 4\nEnd\n", "line 4, column 12: expected '+' or '-' before '4'"),
    (HEAD + " c1: x + y <= 4 + 1\nEnd\n", "line 4, column 17: the right-hand side is one number"),
    (HEAD + " c1: x + y\n c2: x <= 3\nEnd\n", "line 4, column 2: constraint c1 has no comparison"),
    ("Maximize\n obj: x + y\nSubjekt To\n c1: x + y <= 4\nEnd\n",
     "line 3, column 1: expected '+' or '-' before 'Subjekt' (terms are separated by a sign); if 'Subjekt' "
     "opens a section"),
    ("Maximize\n obj: x * y\nSubject To\n c1: x + y <= 4\nEnd\n", "line 2, column 9: '*' outside '[ ]'"),
    ("Minimize\n obj: x + [ x ^ 2\nSubject To\n c1: x >= 1\nEnd\n", "line 2, column 11: this '[' is never closed"),
    ("Maximize\n obj: x\nMinimize\n obj2: x\nSubject To\n c1: x <= 4\nEnd\n",
     "line 3, column 1: a second objective (the first is on line 1)"),
    (HEAD + " c1: x + y <= 4\nBounds\n x <= y\nEnd\n", "line 6, column 7: expected a number after '<=', found 'y'"),
    (HEAD + " c1: x + y <= 4\nBounds\n x fre\nEnd\n", "line 6, column 4: expected <=, >=, = or 'free' after 'x'"),
    (HEAD + " c1: x + y <= 4\nBounds\n 0 <= x <= 3 <= 4\nEnd\n", "line 6, column 14: unexpected '<='"),
    (HEAD + " c1: x + y <= 4\nGenerals\n x 3\nEnd\n", "line 6, column 4: expected a variable name under Generals"),
    ("obj: x\nMaximize\n x\nEnd\n", "line 1, column 1: 'obj' comes before any section"),
])
def test_a_bad_model_names_line_and_column_and_highs_refuses_it_too(model, words):
    with pytest.raises(PayloadError) as err:
        scan_lp(model)
    assert err.value.field == "payload.model" and words in err.value.reason, err.value.reason
    assert highs_reads(model) is None, "the reader refused a model HiGHS reads"


def test_what_only_highs_refuses_fails_at_the_worker_with_highs_line_and_column():
    """A ranged row is left to HiGHS (LP readers differ on it); the worker's error carries HiGHS's
    own place and words, not the name of its temporary file."""
    model = HEAD + " c1: 1 <= x + y <= 4\nEnd\n"
    if highs_reads(model) is not None:
        pytest.skip("this HiGHS reads ranged rows")
    payload = registry.validate("mps", {"model": model, "format": "lp"})
    with pytest.raises(PayloadError) as err:
        registry.solve("mps", payload)
    reason = err.value.reason
    assert reason.startswith("HiGHS could not read it as LP: line 4, column "), reason
    assert "forge-model-" not in reason and "/tmp" not in reason


def test_a_model_over_the_reading_cap_is_left_to_highs_which_still_names_the_place():
    """Reading runs in the hub's request, so a model over MAX_SCAN_BYTES is not read there."""
    big = HEAD + " c1: x + y << 4\n" + "\\ padding\n" * (MAX_SCAN_BYTES // 10) + "End\n"
    assert len(big) > MAX_SCAN_BYTES and scan_lp(big) is None
    payload = registry.validate("mps", {"model": big, "format": "lp"})
    with pytest.raises(PayloadError) as err:
        registry.solve("mps", payload)
    assert err.value.reason.startswith("HiGHS could not read it as LP: line 4, column "), err.value.reason
