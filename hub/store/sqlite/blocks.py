"""One node-minute of raw samples as one compressed block of columns (issue 17).

A sample is split into its *shape* (dict keys, list lengths: the sample with every leaf
replaced by a slot) and its leaves in order. Shapes are stored once, in `sample_shapes`,
under a 64-bit hash of their text; a block names the shapes of its samples. The samples
of one shape form a table, and each column of it (one metric over the minute) is stored
as the first kind that fits:

- `c` constant: one value for the whole minute (mount names, totals, `schema_version`);
- `=` a copy of an earlier column, `s` an earlier integer column subtracted from a
  constant (free = total - used);
- `i` integers, and `d` floats that are exact decimals with up to 6 places (what the
  collector's rounding gives): scaled to integers, delta-encoded, zigzagged and packed
  in as many bits as the largest delta needs;
- `x` other floats (`ts`, unrounded values): the IEEE bits XORed with the previous
  value's (Gorilla's idea, without its bit packing: zstd does that part);
- `j` anything else (strings that change, booleans, mixed types): the values as
  msgpack.

Nulls in a numeric column are a bitmap beside it. Decoding gives back every value
bit for bit (floats are never rounded), every key in its order, every list at its
length: a block round-trips exactly. The header (msgpack) and the packed columns are
compressed together with zstd. Reading gathers all of a table's packed columns in one pass
(`decode_table`), whatever their widths.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any, Callable

import msgspec
import numpy as np
import zstandard

FORMAT = 2
RECENT_CPU = 30  # the fleet's sparkline points
READS = (1, 2)  # format 1 has no `b` columns and no delta of delta; format 2 reads it unchanged
ZSTD_LEVEL = 9
MAX_DECIMALS = 6
_I62 = 2**62

_packer = msgspec.msgpack.Encoder()
_unpack = msgspec.msgpack.Decoder()
_json = msgspec.json.Encoder()
_WIDTH_TYPES = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_BITS = -2  # a packed column of float bits as integers
MAX_BITS_WIDTH = 40  # wider steps between floats' bits: XOR and byte planes instead
_GATHER_BITS = 56  # a value and its bit offset within a byte fit one 64-bit word
_BYTE_STEPS = np.arange(8)
_ORDER = {"i0": 0, "d0": 0, "b0": 0, "i": 1, "d": 1, "b": 1, "i2": 2, "d2": 2, "b2": 2}


@dataclass
class Encoded:
    data: bytes
    shapes: dict[int, bytes]  # hash -> shape JSON, for `sample_shapes`
    n: int
    values: int  # leaves stored, for bytes-per-value figures
    recent_cpu: list[tuple[int, float | None]]  # (ts_ms, cpu.percent) of the last RECENT_CPU samples


# --- shapes -----------------------------------------------------------------------------
def split(sample: Any, leaves: list) -> Any:
    """The shape of `sample` (leaves as 0), appending its leaves to `leaves` in order."""
    t = type(sample)
    if t is dict:
        shape = {}
        for k, v in sample.items():
            tv = type(v)
            if tv is dict or tv is list:
                shape[k] = split(v, leaves)
            else:
                leaves.append(v)
                shape[k] = 0
        return shape
    if t is list:
        out = []
        for v in sample:
            tv = type(v)
            if tv is dict or tv is list:
                out.append(split(v, leaves))
            else:
                leaves.append(v)
                out.append(0)
        return out
    leaves.append(sample)
    return 0


def shape_hash(shape_json: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(shape_json, digest_size=8).digest(), "little", signed=True)


def _source(shape: Any, slot: list[int]) -> str:
    if type(shape) is dict:
        return "{" + ",".join(f"{k!r}:{_source(v, slot)}" for k, v in shape.items()) + "}"
    if type(shape) is list:
        return "[" + ",".join(_source(v, slot) for v in shape) + "]"
    slot[0] += 1
    return f"v[{slot[0] - 1}]"


def _fill(shape: Any, values: Any) -> Any:
    if type(shape) is dict:
        return {k: _fill(v, values) for k, v in shape.items()}
    if type(shape) is list:
        return [_fill(v, values) for v in shape]
    return next(values)


@functools.lru_cache(maxsize=4096)
def builder(shape_json: bytes) -> Callable[[tuple], Any]:
    """A function from a row of leaves to the sample: generated Python (keys as repr()
    literals, so nothing from the data is ever run), or a recursive fill for shapes too
    deep for the compiler."""
    shape = msgspec.json.decode(shape_json)
    try:
        return eval("lambda v: " + _source(shape, [0]), {"__builtins__": {}})  # noqa: S307 - see docstring
    except (RecursionError, SyntaxError, MemoryError, ValueError):
        return lambda row: _fill(shape, iter(row))


# --- columns ------------------------------------------------------------------------------
def _zigzag(d: np.ndarray) -> np.ndarray:
    return ((d << 1) ^ (d >> 63)).view(np.uint64)


def _unzigzag(zz: np.ndarray) -> np.ndarray:
    return (zz >> np.uint64(1)).view(np.int64) ^ -(zz & np.uint64(1)).view(np.int64)


def _decimals_of(matrix: np.ndarray) -> list[int | None]:
    """Per column of a float matrix, the fewest decimal places (0-6) that hold every value
    exactly, or None (not finite, -0.0, or more places)."""
    ks: list[int | None] = [None] * matrix.shape[1]
    ok = np.all(np.isfinite(matrix), axis=0) & ~np.any(np.signbit(matrix) & (matrix == 0), axis=0)
    with np.errstate(invalid="ignore", over="ignore"):
        for k in range(MAX_DECIMALS + 1):
            scaled = np.round(matrix * 10.0**k)
            fits = ok & np.all(np.abs(scaled) < 2**53, axis=0) & np.all(scaled / 10.0**k == matrix, axis=0)
            for j in np.flatnonzero(fits).tolist():
                if ks[j] is None:
                    ks[j] = k
            ok &= ~fits
            if not ok.any():
                break
    return ks


def encode_table(rows: list[list], out: bytearray) -> list:
    """The column descriptors of one table (rows of leaves of one shape), its packed bytes
    appended to `out`: per-column kinds are chosen in Python, the numbers are packed in
    numpy a whole group of columns at a time."""
    n = len(rows)
    descs: list = []
    seen: dict[tuple, int] = {}
    ints: list[tuple[int, list]] = []
    floats: list[tuple[int, tuple]] = []
    for j, col in enumerate(zip(*rows)):
        kinds = set(map(type, col))
        if int in kinds and _too_big(col):
            descs.append(["J", _json.encode(list(col)).decode()])  # beyond msgpack's integers
            continue
        first = col[0]
        if len(kinds) == 1 and col.count(first) == n:
            descs.append(["c", first])
            continue
        key = (tuple(map(type, col)), col) if len(kinds) > 1 else (first.__class__, col)
        if key in seen:
            descs.append(["=", seen[key]])
            continue
        seen[key] = j
        if kinds == {int}:
            ints.append((j, col))
            descs.append(None)
        elif kinds == {float}:
            floats.append((j, col))
            descs.append(None)
        elif kinds <= {int, float, type(None)} and len(kinds) == 2:
            descs.append(_nullable(col, out))
        else:
            descs.append(["j", list(col)])
    packed: list[tuple[int, np.ndarray, int]] = []  # column, int64 values, decimals
    if floats:
        fm = np.array([c for _, c in floats], dtype=np.float64)  # one row per column
        ks = _decimals_of(fm.T)
        xor_rows = []
        for (j, _), k, values in zip(floats, ks, fm):
            if k is None:
                xor_rows.append((j, values))
            else:
                packed.append((j, np.round(values * 10.0**k).astype(np.int64), k))
        if xor_rows:
            bits = np.array([v for _, v in xor_rows]).view(np.int64)
            steps = _zigzag(np.diff(bits, axis=1)).max(axis=1).tolist() if n > 1 else [0] * len(xor_rows)
            kept = []
            for (j, _), row, top in zip(xor_rows, bits, steps):
                if int(top).bit_length() <= MAX_BITS_WIDTH:  # neighbours in binary: `ts`, slow drifts
                    packed.append((j, row, _BITS))
                else:
                    kept.append((j, row))
            xor_rows = kept
        if xor_rows:
            bits = np.array([v for _, v in xor_rows]).view(np.uint64)
            xored = bits ^ np.concatenate((np.zeros((len(xor_rows), 1), np.uint64), bits[:, :-1]), axis=1)
            planes = xored.view(np.uint8).reshape(len(xor_rows), n, 8).transpose(0, 2, 1)
            out += planes.tobytes()
            for j, _ in xor_rows:
                descs[j] = ["x"]
    packed += [(j, np.array(c, dtype=np.int64), -1) for j, c in ints]
    if packed:
        matrix = np.array([v for _, v, _ in packed])
        deltas = np.diff(matrix, axis=1)
        negated: dict[bytes, tuple[int, int]] = {}
        zz = _zigzag(deltas)
        tops = zz.max(axis=1).tolist() if n > 1 else [0] * len(packed)
        zz2 = _zigzag(np.diff(deltas, axis=1))  # delta of delta where narrower: steady clocks and counters
        tops2 = zz2.max(axis=1).tolist() if n > 2 else [0] * len(packed)
        lows = matrix.min(axis=1)
        with np.errstate(over="ignore"):
            zz0 = (matrix - lows[:, None]).view(np.uint64)  # the values themselves where narrower: noisy rates
        tops0 = zz0.max(axis=1).tolist()
        by_width: dict[tuple[int, int], list[int]] = {}
        for row, ((j, values, k), top) in enumerate(zip(packed, tops)):
            first = int(values[0])
            if k == -1:
                other = negated.get(deltas[row].tobytes())
                if other is not None:
                    descs[j] = ["s", other[0], first + other[1]]
                    continue
                negated[(-deltas[row]).tobytes()] = (j, first)
            width, order = int(top).bit_length(), 1
            if n > 2 and int(tops2[row]).bit_length() < width:
                width, order = int(tops2[row]).bit_length(), 2
            if int(tops0[row]).bit_length() < width:
                width, order = int(tops0[row]).bit_length(), 0
            kind = "i" if k == -1 else "b" if k == _BITS else "d"
            extra = [k] if kind == "d" else []
            if order == 0:
                descs[j] = [kind + "0", int(lows[row]), width] + extra
            elif order == 1:
                descs[j] = [kind, first, width] + extra
            else:
                descs[j] = [kind + "2", first, int(deltas[row][0]), width] + extra
            if width:
                by_width.setdefault((order, width), []).append(row)
        for order, width in sorted(by_width):
            rows = by_width[order, width]
            out += _pack_bits((zz0, zz, zz2)[order][rows], width)  # columns x (n - order), row by row
    return descs


def _too_big(col: tuple) -> bool:
    ints = [v for v in col if type(v) is int]
    return max(ints) >= _I62 or min(ints) <= -_I62


def _nullable(col: tuple, out: bytearray) -> list:
    """A numeric column with nulls: a null bitmap, then the others as a float or int column."""
    present = [v for v in col if v is not None]
    nulls = np.packbits(np.fromiter((v is None for v in col), dtype=bool, count=len(col))).tobytes()
    if all(type(v) is int for v in present):
        arr, k = np.array(present, dtype=np.int64), -1
    elif all(type(v) is float for v in present):
        farr = np.array(present, dtype=np.float64)
        [k] = _decimals_of(farr[:, None])
        if k is None:
            return ["j", list(col)]
        arr = np.round(farr * 10.0**k).astype(np.int64)
    else:
        return ["j", list(col)]
    zz = _zigzag(np.diff(arr))
    width = int(zz.max()).bit_length() if len(zz) else 0
    raw = _pack_bits(zz, width) if width else b""
    out += nulls
    out += raw
    return ["n", int(arr[0]), width, k, len(present), len(nulls), len(raw)]


def _pack_bits(zz: np.ndarray, width: int) -> bytes:
    """The low `width` bits of each uint64, back to back (little-endian bit order)."""
    bits = np.unpackbits(np.ascontiguousarray(zz, dtype="<u8").reshape(-1, 1).view(np.uint8), axis=1,
                         bitorder="little")
    return np.packbits(bits[:, :width], bitorder="little").tobytes()


def _unpack_ints(raw: bytes, rows: int, count: int, width: int, plain: bool = False) -> np.ndarray:
    """`rows` columns of `count` packed zigzag deltas of `width` bits -> deltas (rows x count);
    `plain`: unsigned offsets, not zigzagged."""
    n = rows * count
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), count=n * width, bitorder="little").reshape(n, width)
    padded = np.zeros((n, 64), dtype=np.uint8)
    padded[:, :width] = bits
    zz = np.packbits(padded, axis=1, bitorder="little").view("<u8").reshape(rows, count)
    return zz.astype(np.uint64).view(np.int64) if plain else _unzigzag(zz.astype(np.uint64))


def _decode_nullable_and_xor(descs: list, n: int, buf: memoryview, pos: int, cols: list) -> int:
    """The columns with nulls (`n`) and the XORed float columns (`x`) into `cols`, which
    come first in a table's bytes whichever decoder reads the packed ones; returns where the
    packed columns start."""
    for j, d in enumerate(descs):
        if d[0] == "n":
            first, width, k, count, nulls_len, size = d[1:]
            is_null = np.unpackbits(np.frombuffer(buf[pos:pos + nulls_len], dtype=np.uint8), count=n).tolist()
            pos += nulls_len
            ints = np.full(count, first, dtype=np.int64)
            if width:
                ints[1:] += np.cumsum(_unpack_ints(bytes(buf[pos:pos + size]), 1, count - 1, width)[0])
            pos += size
            it = iter(ints.tolist() if k < 0 else (ints / 10.0**k).tolist())
            cols[j] = [None if null else next(it) for null in is_null]
    xors = [j for j, d in enumerate(descs) if d[0] == "x"]
    if xors:
        size = len(xors) * n * 8
        planes = np.frombuffer(buf[pos:pos + size], dtype=np.uint8).reshape(len(xors), 8, n).transpose(0, 2, 1)
        pos += size
        bits = np.bitwise_xor.accumulate(np.ascontiguousarray(planes).view(np.uint64).reshape(len(xors), n), axis=1)
        for j, values in zip(xors, bits.view(np.float64).tolist()):
            cols[j] = values
    return pos


def decode_table(descs: list, n: int, buf: memoryview, pos: int, padded: np.ndarray | None = None
                 ) -> tuple[list[list], int]:
    """The columns of one table (rows of leaves of one shape) from `buf` at `pos`, and where
    the next table starts. The packed columns are read in one pass for all widths: every
    value's bit offset is computed, 8 bytes are gathered at each and shifted and masked, then
    each order's columns are summed up together. `padded` is `buf` as uint8 with 8 zero
    bytes after it (a block's tables share it). Gives what `decode_table_by_groups` gives."""
    packed = [(j, _ORDER[d[0]]) for j, d in enumerate(descs) if d[0] in _ORDER]
    widths = {j: descs[j][max(order, 1) + 1] for j, order in packed}
    if any(w > _GATHER_BITS for w in widths.values()):
        return decode_table_by_groups(descs, n, buf, pos)
    cols: list = [None] * len(descs)
    pos = _decode_nullable_and_xor(descs, n, buf, pos, cols)
    if packed:
        if padded is None:
            padded = np.frombuffer(bytes(buf) + bytes(8), dtype=np.uint8)
        groups: dict[tuple[int, int], list[int]] = {}
        for j, order in packed:
            groups.setdefault((order, widths[j]), []).append(j)
        start: dict[int, int] = {}
        for order, width in sorted(groups):
            group = groups[order, width]
            count = n - order if order else n
            for i, j in enumerate(group):
                start[j] = pos * 8 + i * count * width
            pos += (len(group) * count * width + 7) // 8
        by_order = [[j for j, order in packed if order == o] for o in range(3)]
        order_of, matrices = [], []
        with np.errstate(over="ignore"):
            for order, js in enumerate(by_order):
                if not js:
                    continue
                count = n - order if order else n
                w = np.array([widths[j] for j in js], dtype=np.int64)
                offsets = np.array([start[j] for j in js], dtype=np.int64)[:, None] + np.arange(count) * w[:, None]
                gathered = padded[(offsets >> 3)[:, :, None] + _BYTE_STEPS]
                words = np.ascontiguousarray(gathered).view("<u8")[:, :, 0]
                masks = ((np.uint64(1) << w.astype(np.uint64)) - np.uint64(1))[:, None]
                steps = (words >> (offsets & 7).astype(np.uint64)) & masks
                firsts = np.array([descs[j][1] for j in js], dtype=np.int64)[:, None]
                if order == 0:
                    values = firsts + steps.view(np.int64)
                else:
                    steps = _unzigzag(steps)
                    if order == 2:
                        d0 = np.array([descs[j][2] for j in js], dtype=np.int64)[:, None]
                        steps = np.concatenate((d0, d0 + np.cumsum(steps, axis=1)), axis=1)
                    values = np.concatenate((firsts, firsts + np.cumsum(steps, axis=1)), axis=1)
                order_of += js
                matrices.append(values)
        values = matrices[0] if len(matrices) == 1 else np.concatenate(matrices)
        kinds = [descs[j][0][0] for j in order_of]
        ints = [r for r, kind in enumerate(kinds) if kind == "i"]
        bits = [r for r, kind in enumerate(kinds) if kind == "b"]
        decimals = [r for r, kind in enumerate(kinds) if kind == "d"]
        if ints:
            for r, row in zip(ints, values[ints].tolist()):
                cols[order_of[r]] = row
        if bits:
            for r, row in zip(bits, values[bits].view(np.float64).tolist()):
                cols[order_of[r]] = row
        if decimals:
            scales = np.array([10.0**descs[order_of[r]][-1] for r in decimals])[:, None]
            for r, row in zip(decimals, (values[decimals] / scales).tolist()):
                cols[order_of[r]] = row
    _fill_plain(descs, cols, n)
    return cols, pos


def _fill_plain(descs: list, cols: list, n: int) -> None:
    """The columns that are not packed: constants, msgpack and JSON values, then references."""
    for j, d in enumerate(descs):
        kind = d[0]
        if kind == "c":
            cols[j] = [d[1]] * n
        elif kind == "j":
            cols[j] = d[1]
        elif kind == "J":
            cols[j] = msgspec.json.decode(d[1])
    for j, d in enumerate(descs):  # references last: they point left, to any kind
        if d[0] == "=":
            cols[j] = cols[d[1]]
        elif d[0] == "s":
            cols[j] = [d[2] - v for v in cols[d[1]]]


def decode_table_by_groups(descs: list, n: int, buf: memoryview, pos: int) -> tuple[list[list], int]:
    """The columns of one table, one unpack per group of packed columns of a width: the
    first decoder, kept for widths the one-pass decoder cannot gather (over 56 bits)."""
    cols: list = [None] * len(descs)
    pos = _decode_nullable_and_xor(descs, n, buf, pos, cols)
    by_width: dict[tuple[int, int], list[int]] = {}
    for j, d in enumerate(descs):
        if d[0] in _ORDER:
            order = _ORDER[d[0]]
            by_width.setdefault((order, d[max(order, 1) + 1]), []).append(j)
    with np.errstate(over="ignore"):
        for order, width in sorted(by_width):
            group = by_width[order, width]
            firsts = np.array([descs[j][1] for j in group], dtype=np.int64)[:, None]
            count = n - order if order else n
            if width:
                size = (len(group) * count * width + 7) // 8
                steps = _unpack_ints(bytes(buf[pos:pos + size]), len(group), count, width, order == 0)
                pos += size
            else:
                steps = np.zeros((len(group), count), dtype=np.int64)
            if order == 0:
                values = firsts + steps
            elif order == 2:
                d0 = np.array([descs[j][2] for j in group], dtype=np.int64)[:, None]
                steps = np.concatenate((d0, d0 + np.cumsum(steps, axis=1)), axis=1)
            if order:
                values = np.concatenate((firsts, firsts + np.cumsum(steps, axis=1)), axis=1)
            for j, row in zip(group, values):
                d = descs[j]
                kind = d[0][0]
                cols[j] = (row.tolist() if kind == "i" else row.view(np.float64).tolist() if kind == "b"
                           else (row / 10.0**d[-1]).tolist())
    _fill_plain(descs, cols, n)
    return cols, pos


# --- blocks -------------------------------------------------------------------------------
def encode(samples: list[dict]) -> Encoded:
    """One block of samples (in the order given: oldest first)."""
    shapes: dict[bytes, int] = {}
    tables: list[list[list]] = []
    seq: list[int] = []
    for s in samples:
        leaves: list = []
        shape_json = _json.encode(split(s, leaves))
        idx = shapes.setdefault(shape_json, len(shapes))
        if idx == len(tables):
            tables.append([])
        tables[idx].append(leaves)
        seq.append(idx)
    buf = bytearray()
    cols = []
    values = 0
    for rows in tables:
        values += len(rows) * len(rows[0])
        cols.append(encode_table(rows, buf) if rows[0] else [])
    hashes = {shape_hash(j): j for j in shapes}
    header = [FORMAT, list(hashes), _runs(seq), [len(t) for t in tables], cols]
    head = _packer.encode(header)
    data = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(len(head).to_bytes(4, "little") + head + bytes(buf))
    recent = [(round(float(s["ts"]) * 1000), _cpu_of(s)) for s in samples[-RECENT_CPU:]]
    return Encoded(data=data, shapes=hashes, n=len(samples), values=values, recent_cpu=recent)


def _cpu_of(sample: dict) -> float | None:
    cpu = sample.get("cpu")
    return cpu.get("percent") if type(cpu) is dict else None


def decode(data: bytes, shape_of: Callable[[int], bytes]) -> list[dict]:
    """The samples of a block, oldest first; `shape_of(hash)` gives a shape's JSON."""
    plain = zstandard.ZstdDecompressor().decompress(data)
    size = int.from_bytes(plain[:4], "little")
    header = _unpack.decode(plain[4:4 + size])
    if type(header) is dict:  # format 1
        header = [header.get("v"), header.get("shapes"), header.get("seq"), header.get("counts"), header.get("cols")]
    version, hashes, runs, counts, descs = header
    if version not in READS:
        raise ValueError(f"sample block format {version!r} is not one of {READS}")
    buf = memoryview(plain)[4 + size:]
    padded = np.frombuffer(plain[4 + size:] + bytes(8), dtype=np.uint8)
    groups = []
    pos = 0
    for h, count, cols in zip(hashes, counts, descs):
        build = builder(shape_of(h))
        columns, pos = decode_table(cols, count, buf, pos, padded)
        rows = zip(*columns) if columns else ((),) * count
        groups.append([build(r) for r in rows])
    if len(groups) == 1:  # one shape all minute, the usual case
        return groups[0]
    its = [iter(g) for g in groups]
    return [next(its[i]) for i in _unruns(runs)]


def _runs(seq: list[int]) -> list[int]:
    """Run-length pairs [value, count, ...] (a minute is nearly always one shape)."""
    out: list[int] = []
    for v in seq:
        if out and out[-2] == v:
            out[-1] += 1
        else:
            out += [v, 1]
    return out


def _unruns(runs: list[int]) -> list[int]:
    return [v for v, c in zip(runs[::2], runs[1::2]) for _ in range(c)]
