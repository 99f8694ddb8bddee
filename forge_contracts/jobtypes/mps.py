"""The `mps` job type's contract: any LP or MIP in MPS or CPLEX-LP text.

Checks here are textual (the sections an MPS file needs, its ROWS and COLUMNS lines; an
LP model's tokens, read by lp_text.py), so a bad model is refused at submission with the
line (and for LP the column) at fault; the
solver (forge_desktop/solvers/mps.py) reads the model with HiGHS and refuses what else
HiGHS cannot parse.
"""

from __future__ import annotations

import re

from forge_contracts.jobtypes.display import objective_summary, solver_progress_text
from forge_contracts.jobtypes.lp_text import scan_lp
from forge_contracts.jobtypes.payload import (
    ModelShape, PayloadError, optional_number, reject_unknown, seed, threads, time_limit,
)

DEFAULT_TIME_LIMIT = 300.0
MAX_MODEL_BYTES = 16 * 1024 * 1024
MAX_VALUES = 200_000
FORMATS = ("mps", "lp")
_MPS_SECTION = re.compile(r"^(ROWS|COLUMNS)\b", re.MULTILINE)
_LP_OBJECTIVE = re.compile(r"^\s*(min|max|minimize|maximize|minimise|maximise|minimum|maximum)\b",
                           re.MULTILINE | re.IGNORECASE)


# Section headers HiGHS reads (a header starts in column 1; data lines are indented).
MPS_SECTIONS = frozenset(("NAME", "OBJSENSE", "OBJSENSE MAX", "OBJSENSE MIN", "OBJSENSE MAXIMIZE", "OBJSENSE MINIMIZE",
                          "OBJNAME", "ROWS", "COLUMNS", "RHS", "RANGES", "BOUNDS", "SOS", "SETS", "QUADOBJ",
                          "QSECTION", "QMATRIX", "QCMATRIX", "CSECTION", "INDICATORS", "ENDATA"))
ROW_TYPES = frozenset("NELG")
INTEGER_BOUNDS = frozenset(("BV", "LI", "UI"))


def _number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def scan_mps(model: str) -> ModelShape:
    """Read the ROWS and COLUMNS sections line by line; PayloadError('line N: ...') at the first
    line a solver could not read (an unknown section, a bad row type, a value that is not a
    number, a column entry naming a row ROWS did not declare)."""
    section = None
    rows: dict[str, str] = {}
    columns: set[str] = set()
    integers: set[str] = set()
    in_int = False

    def bad(n: int, why: str) -> PayloadError:
        return PayloadError("payload.model", f"line {n}: {why}")

    for n, line in enumerate(model.splitlines(), 1):
        if not line.strip() or line.startswith("*"):
            continue
        words = line.split()
        if not line[0].isspace():
            head = words[0].upper()
            if head in ("NAME", "OBJNAME", "RHS", "RANGES", "BOUNDS", "SOS") or " ".join(words).upper() in MPS_SECTIONS:
                section = head
                continue
            if section in (None, "ROWS", "COLUMNS"):
                raise bad(n, f"{words[0]!r} is not an MPS section (expected one of NAME, ROWS, COLUMNS, RHS, "
                             "RANGES, BOUNDS, ENDATA)")
        if section == "ROWS":
            if len(words) < 2 or words[0].upper() not in ROW_TYPES:
                raise bad(n, f"a ROWS line is a type (N, E, L or G) and a name, got {line.strip()!r}")
            rows[words[1]] = words[0].upper()
        elif section == "COLUMNS":
            if len(words) >= 3 and words[1].strip("'\"").upper() == "MARKER":
                marker = words[2].strip("'\"").upper()
                in_int = marker == "INTORG" if marker in ("INTORG", "INTEND") else in_int
                continue
            if len(words) not in (3, 5):
                raise bad(n, f"a COLUMNS line is a column and one or two (row, value) pairs, got {line.strip()!r}")
            for row, v in zip(words[1::2], words[2::2]):
                if not _number(v):
                    raise bad(n, f"{v!r} is not a number (column {words[0]}, row {row})")
                if row not in rows:
                    raise bad(n, f"column {words[0]} names row {row!r}, which ROWS does not declare")
            columns.add(words[0])
            if in_int:
                integers.add(words[0])
        elif section == "BOUNDS" and len(words) >= 3 and words[0].upper() in INTEGER_BOUNDS:
            integers.add(words[2])
        elif section is None:
            raise bad(n, f"data before any section: {line.strip()!r}")
    return ModelShape(rows=sum(1 for t in rows.values() if t != "N"), columns=len(columns),
                    integers=len(integers & columns))


def validate(payload: dict) -> dict:
    reject_unknown(payload, {"model", "format", "time_limit", "mip_gap", "threads", "seed"})
    model = payload.get("model")
    if not isinstance(model, str) or not model.strip():
        raise PayloadError("payload.model", "must be the non-empty text of an MPS or LP model")
    size = len(model.encode("utf-8"))
    if size > MAX_MODEL_BYTES:
        raise PayloadError("payload.model", f"is {size} bytes; at most {MAX_MODEL_BYTES} allowed")
    fmt = payload.get("format")
    if fmt is None:
        fmt = "mps" if _MPS_SECTION.search(model) else "lp"
    if fmt not in FORMATS:
        raise PayloadError("payload.format", f"must be 'mps' or 'lp', got {fmt!r}")
    if fmt == "mps":
        for section in ("ROWS", "COLUMNS"):
            if not re.search(rf"^{section}\b", model, re.MULTILINE):
                raise PayloadError("payload.model", f"is not MPS: the {section} section is missing")
        scan_mps(model)
    elif not _LP_OBJECTIVE.search(model):
        raise PayloadError("payload.model", "is not LP format: no line starts with "
                                            "'Minimize' or 'Maximize'")
    else:
        scan_lp(model)
    mip_gap = optional_number(payload, "mip_gap", None, minimum=0)
    return {"model": model, "format": fmt, "time_limit": time_limit(payload, DEFAULT_TIME_LIMIT),
            "mip_gap": mip_gap, "threads": threads(payload), "seed": seed(payload)}


summarize = objective_summary
progress_text = solver_progress_text
