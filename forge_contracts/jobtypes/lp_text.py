"""A textual reading of CPLEX-LP models, so a bad `.lp` file is refused at submission with its line and column.

The hub has no solver (a hub-only install has no HiGHS), so this reads the sections HiGHS
reads (objective, Subject To, Bounds, Generals, Binaries, Semi-continuous, SOS, End), token
by token, and raises PayloadError("payload.model", "line N, column C: ...") at the first
token that cannot belong where it stands. It refuses only what no LP reader accepts (a
missing comparison, a right-hand side that is no number, two terms with no sign between
them, a product outside `[ ]`, a number among integer variables, ...); a construct it does
not check (SOS sets, ranged rows) is left to HiGHS, whose own message the worker passes on.
"""
from __future__ import annotations

import gc
import re
from typing import NamedTuple

from forge_contracts.jobtypes.payload import ModelShape, PayloadError

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>\\.*)
  | (?P<cmp>[<>=]+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<sign>[+-])
  | (?P<op>[*^:\[\]])
  | (?P<name>[^\s+\-*^<>=:\[\]\\]+)
""", re.VERBOSE)
COMPARISONS = frozenset(("<", "<=", "=<", ">", ">=", "=>", "="))
INFINITY = frozenset(("inf", "infinity"))
# Section headers, as the first word(s) of a line, lower-cased → the section they open.
_HEADERS = {
    ("minimize",): "objective", ("minimise",): "objective", ("minimum",): "objective", ("min",): "objective",
    ("maximize",): "objective", ("maximise",): "objective", ("maximum",): "objective", ("max",): "objective",
    ("subject", "to"): "constraints", ("such", "that"): "constraints", ("st",): "constraints",
    ("s.t.",): "constraints", ("st.",): "constraints",
    ("lazy", "constraints"): "constraints", ("user", "cuts"): "constraints",
    ("bounds",): "bounds", ("bound",): "bounds",
    ("general",): "integers", ("generals",): "integers", ("gen",): "integers",
    ("binary",): "binaries", ("binaries",): "binaries", ("bin",): "binaries",
    ("semi", "-", "continuous"): "semis", ("semi-continuous",): "semis", ("semis",): "semis", ("semi",): "semis",
    ("sos",): "sos", ("end",): "end",
}
_HEADER_WORDS = "Minimize/Maximize, Subject To, Bounds, Generals, Binaries, End"
_TITLES = {"objective": "objective", "constraints": "Subject To", "bounds": "Bounds", "integers": "Generals",
           "binaries": "Binaries", "semis": "Semi-continuous", "sos": "SOS"}


class Token(NamedTuple):
    """A tuple, not a dataclass: a large model has millions of them, and tuples are cheap to make."""
    kind: str  # num, name, sign, cmp, op, section
    text: str
    line: int
    col: int  # 1-based
    first: bool  # the first token on its line

    def where(self) -> str:
        return f"line {self.line}, column {self.col}"


def tokens(model: str) -> list[Token]:
    """The model's tokens; a section header (the first words of a line) is one `section` token."""
    out: list[Token] = []
    for n, line in enumerate(model.splitlines(), 1):
        row: list[Token] = []
        for m in _TOKEN.finditer(line):
            kind = m.lastgroup
            if kind in ("ws", "comment"):
                continue
            if kind == "cmp" and m.group() not in COMPARISONS:
                raise _bad(Token(kind, m.group(), n, m.start() + 1, not row),
                           f"{m.group()!r} is not a comparison (use <=, >= or =)")
            row.append(Token(kind, m.group(), n, m.start() + 1, not row))
        words = tuple(t.text.lower() for t in row[:3])
        for size in (3, 2, 1):
            section = _HEADERS.get(words[:size]) if len(words) >= size else None
            if section:
                head = row[0]
                row = [Token("section", section, n, head.col, True)] + [
                    Token(t.kind, t.text, t.line, t.col, False) for t in row[size:]]
                break
        out += row
    return out


def _bad(t: Token | None, why: str) -> PayloadError:
    return PayloadError("payload.model", f"{t.where()}: {why}" if t else why)


class _Reader:
    """A cursor over the tokens of one section; `None` past its end."""

    def __init__(self, toks: list[Token], title: str) -> None:
        self.toks, self.i, self.title = toks, 0, title
        self.variables: set[str] = set()

    def peek(self, k: int = 0) -> Token | None:
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def take(self) -> Token:
        t = self.toks[self.i]
        self.i += 1
        return t

    def is_label(self) -> bool:
        t, nxt = self.peek(), self.peek(1)
        return bool(t and t.kind == "name" and nxt and nxt.text == ":")

    def label(self) -> str | None:
        if self.is_label():
            name = self.take().text
            self.take()
            return name
        return None

    def signed_number(self, after: Token) -> Token:
        while (t := self.peek()) and t.kind == "sign":
            self.take()
        t = self.peek()
        if t is None or not (t.kind == "num" or (t.kind == "name" and t.text.lower() in INFINITY)):
            found = f"found {t.text!r}" if t else f"found the end of {self.title}"
            raise _bad(t or after, f"expected a number after {after.text!r}, {found}")
        return self.take()

    def expression(self, in_constraint: bool) -> int:
        """Terms up to a comparison (or the section's end); the number of terms read."""
        terms, last_sign = 0, None
        while (t := self.peek()) is not None:
            if t.kind == "cmp" or (in_constraint and self.is_label() and terms):
                break
            if t.kind == "sign":
                last_sign = self.take()
                continue
            if terms and last_sign is None:
                raise _bad(t, self._no_sign(t))
            self.term(t)
            terms += 1
            last_sign = None
        if last_sign is not None:
            t = self.peek()
            raise _bad(t or last_sign, f"expected a term after {last_sign.text!r}, found "
                                       + (repr(t.text) if t else f"the end of {self.title}"))
        return terms

    def _no_sign(self, t: Token) -> str:
        prev = self.toks[self.i - 1]
        if prev.kind == "num" and t.kind == "num" and prev.line == t.line and t.col == prev.col + len(prev.text):
            return f"{prev.text + t.text!r} is not a number"
        why = f"expected '+' or '-' before {t.text!r} (terms are separated by a sign)"
        if t.first and t.kind == "name":
            why += f"; if {t.text!r} opens a section, the known ones are {_HEADER_WORDS}"
        return why

    def term(self, t: Token) -> None:
        if t.kind == "num":
            self.take()
            if (star := self.peek()) and star.text == "*":
                self.take()
                if not ((v := self.peek()) and v.kind == "name"):
                    raise _bad(v or star, "expected a variable after '*'")
            if (v := self.peek()) and v.kind == "name" and not self.is_label() and not v.first:
                self.variables.add(self.take().text)
        elif t.kind == "name":
            self.variables.add(self.take().text)
            if (op := self.peek()) and op.text in ("*", "^") and not op.first:
                raise _bad(op, f"{op.text!r} outside '[ ]': products and squares go inside '[ ... ]'")
        elif t.text == "[":
            self.quadratic(self.take())
        else:
            raise _bad(t, f"unexpected {t.text!r} in {self.title}")

    def quadratic(self, opening: Token) -> None:
        while (t := self.peek()) is not None and t.text != "]":
            if t.kind in ("cmp", "section") or t.text in ("[", ":"):
                break
            if t.kind == "name":
                self.variables.add(t.text)
            self.take()
        t = self.peek()
        if t is None or t.text != "]":
            raise _bad(opening, "this '[' is never closed by ']'")
        self.take()
        if (div := self.peek()) and div.kind == "name" and div.text.startswith("/") and not div.first:
            self.take()
            rest = div.text[1:]
            if not rest:
                rest_t = self.peek()
                if not rest_t or rest_t.kind != "num":
                    raise _bad(rest_t or div, "expected a number after '/'")
                self.take()
            elif not rest.replace(".", "", 1).isdigit():
                raise _bad(div, f"expected a number after '/', found {rest!r}")


def _objective(r: _Reader) -> None:
    r.label()
    r.expression(in_constraint=False)
    if (t := r.peek()) is not None:
        raise _bad(t, f"unexpected {t.text!r} in the objective (a comparison belongs under Subject To)")


def _constraints(r: _Reader) -> int:
    rows = 0
    while (start := r.peek()) is not None:
        name = r.label()
        lhs = r.peek()
        if lhs and (lhs.kind == "num" or lhs.kind == "sign") and _number_then_comparison(r):
            r.signed_number(lhs)
            r.take()
            ranged = True
        else:
            ranged = False
        if r.expression(in_constraint=True) == 0:
            t = r.peek()
            what = f"constraint {name}" if name else "this constraint"
            raise _bad(t or start, f"{what} has no terms" + (f" before {t.text!r}" if t else ""))
        op = r.peek()
        if op is None or op.kind != "cmp":
            if ranged:
                rows += 1
                continue
            what = f"constraint {name}" if name else "this constraint"
            raise _bad(start, f"{what} has no comparison: expected <=, >= or = and a number"
                       + (f" before {op.text!r} ({op.where()})" if op else f" before the end of {r.title}"))
        r.take()
        rhs = r.signed_number(op)
        rows += 1
        nxt = r.peek()
        if nxt and nxt.line == rhs.line and nxt.kind in ("sign", "num", "cmp", "op"):
            raise _bad(nxt, f"the right-hand side is one number: unexpected {nxt.text!r} after {rhs.text!r}")
    return rows


def _number_then_comparison(r: _Reader) -> bool:
    k = 0
    while (t := r.peek(k)) and t.kind == "sign":
        k += 1
    t, nxt = r.peek(k), r.peek(k + 1)
    return bool(t and t.kind == "num" and nxt and nxt.kind == "cmp")


def _bounds(r: _Reader) -> None:
    while (t := r.peek()) is not None:
        if t.kind in ("num", "sign") or (t.kind == "name" and t.text.lower() in INFINITY):
            r.signed_number(t)
            op = r.peek()
            if op is None or op.kind != "cmp":
                raise _bad(op or t, "expected <=, >= or = after a bound's number"
                           + (f", found {op.text!r}" if op else ""))
            r.take()
            v = r.peek()
            if v is None or v.kind != "name":
                raise _bad(v or op, f"expected a variable after {op.text!r}" + (f", found {v.text!r}" if v else ""))
            r.variables.add(r.take().text)
            if (op2 := r.peek()) and op2.kind == "cmp":
                r.take()
                r.signed_number(op2)
        elif t.kind == "name":
            r.variables.add(r.take().text)
            op = r.peek()
            if op is not None and op.kind == "name" and op.text.lower() == "free":
                r.take()
            elif op is not None and op.kind == "cmp":
                r.take()
                r.signed_number(op)
            else:
                raise _bad(op or t, f"expected <=, >=, = or 'free' after {t.text!r}"
                           + (f", found {op.text!r}" if op else ""))
        else:
            raise _bad(t, f"unexpected {t.text!r} in Bounds (a bound is like 'x <= 4', '0 <= x <= 4' or 'x free')")


def _names(r: _Reader, title: str) -> set[str]:
    names = set()
    while (t := r.peek()) is not None:
        if t.kind != "name":
            raise _bad(t, f"expected a variable name under {title}, found {t.text!r}")
        names.add(r.take().text)
    r.variables |= names
    return names


MAX_SCAN_BYTES = 1024 * 1024
"""Models up to this size are read here (about 1 s at worst, in the hub's request); a larger one
is left to HiGHS at the worker, whose error names line and column too."""


def scan_lp(model: str) -> ModelShape | None:
    """Read an LP model's sections; PayloadError('line N, column C: ...') at the first token out of
    place. None for a model over MAX_SCAN_BYTES, which is not read."""
    if len(model) > MAX_SCAN_BYTES:
        return None
    # Millions of short-lived tuples would set off the collector again and again (quadratic in effect).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _scan(model)
    finally:
        if enabled:
            gc.enable()


def _scan(model: str) -> ModelShape:
    toks = tokens(model)
    if toks and toks[0].kind != "section":
        raise _bad(toks[0], f"{toks[0].text!r} comes before any section ({_HEADER_WORDS})")
    sections: list[tuple[Token, list[Token]]] = []
    for t in toks:
        if t.kind == "section":
            sections.append((t, []))
        else:
            sections[-1][1].append(t)
    variables: set[str] = set()
    integers: set[str] = set()
    rows = 0
    objective: Token | None = None
    for head, body in sections:
        if head.text == "end":
            break
        r = _Reader(body, _TITLES[head.text])
        if head.text == "objective":
            if objective is not None:
                raise _bad(head, f"a second objective (the first is on line {objective.line})")
            objective = head
            _objective(r)
        elif head.text == "constraints":
            rows += _constraints(r)
        elif head.text == "bounds":
            _bounds(r)
        elif head.text in ("integers", "binaries", "semis"):
            names = _names(r, _TITLES[head.text])
            if head.text != "semis":
                integers |= names
        variables |= r.variables
    return ModelShape(rows=rows, columns=len(variables), integers=len(integers))
