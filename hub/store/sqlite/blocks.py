"""One node-minute of raw samples as one compressed block of columns (issue 17).

A sample is split into its *shape* (dict keys, list lengths: the sample with every leaf
replaced by a slot) and its leaves in order. Shapes are stored once, in `sample_shapes`,
under a 64-bit hash of their text; a block names the shapes of its samples. The samples
of one shape form a table, and each column of it (one metric over the minute) is stored
as the first kind that fits:

- `c` constant: one value for the whole minute (mount names, totals, `schema_version`);
- `i` integers, and `d` floats that are exact decimals with up to 6 places (what the
  collector's rounding gives): scaled to integers, delta-encoded, zigzagged and packed
  in the fewest bytes that hold the largest delta (1, 2, 4 or 8);
- `x` other floats (`ts`, unrounded values): the IEEE bits XORed with the previous
  value's (Gorilla's idea, without its bit packing: zstd does that part);
- `j` anything else (strings that change, booleans, mixed types): the values as
  msgpack.

Nulls in a numeric column are a bitmap beside it. Decoding gives back every value
bit for bit (floats are never rounded), every key in its order, every list at its
length: a block round-trips exactly. The header (msgpack) and the packed columns are
compressed together with zstd.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any, Callable

import msgspec
import numpy as np
import zstandard

FORMAT = 1
ZSTD_LEVEL = 9
MAX_DECIMALS = 6
_I62 = 2**62

_packer = msgspec.msgpack.Encoder()
_unpack = msgspec.msgpack.Decoder()
_json = msgspec.json.Encoder()
_WIDTH_TYPES = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


@dataclass
class Encoded:
    data: bytes
    shapes: dict[int, bytes]  # hash -> shape JSON, for `sample_shapes`
    n: int
    values: int  # leaves stored, for bytes-per-value figures


# --- shapes -----------------------------------------------------------------------------
def split(sample: Any, leaves: list) -> Any:
    """The shape of `sample` (leaves as 0), appending its leaves to `leaves` in order."""
    t = type(sample)
    if t is dict:
        return {k: split(v, leaves) for k, v in sample.items()}
    if t is list:
        return [split(v, leaves) for v in sample]
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
def _zigzag_pack(ints: np.ndarray) -> tuple[int, bytes]:
    deltas = np.diff(ints, prepend=np.int64(0))
    zz = ((deltas << 1) ^ (deltas >> 63)).view(np.uint64)
    top = int(zz.max()) if len(zz) else 0
    width = 1 if top < 2**8 else 2 if top < 2**16 else 4 if top < 2**32 else 8
    return width, zz.astype(_WIDTH_TYPES[width]).tobytes()


def _zigzag_unpack(width: int, raw: bytes) -> np.ndarray:
    zz = np.frombuffer(raw, dtype=_WIDTH_TYPES[width]).astype(np.uint64)
    deltas = (zz >> np.uint64(1)).view(np.int64) ^ -(zz & np.uint64(1)).view(np.int64)
    return np.cumsum(deltas, dtype=np.int64)


def _decimals(arr: np.ndarray) -> int | None:
    if not np.all(np.isfinite(arr)) or np.any(np.signbit(arr) & (arr == 0)):
        return None
    for k in range(MAX_DECIMALS + 1):
        scaled = np.round(arr * 10.0**k)
        if np.all(np.abs(scaled) < 2**53) and np.array_equal(scaled / 10.0**k, arr):
            return k
    return None


def encode_column(col: tuple, out: bytearray) -> list:
    """Describe (and append the bytes of) one column; see the module docstring."""
    if any(type(v) is int and not -_I62 < v < _I62 for v in col):
        return ["J", _json.encode(list(col)).decode()]  # beyond msgpack's integers
    first = col[0]
    t0 = type(first)
    if all(type(v) is t0 and v == first for v in col):
        return ["c", first]
    present = [v for v in col if v is not None]
    nulls = b""
    if len(present) < len(col):
        nulls = np.packbits(np.fromiter((v is None for v in col), dtype=bool, count=len(col))).tobytes()
    kinds = {type(v) for v in present}
    if kinds == {int}:
        width, raw = _zigzag_pack(np.array(present, dtype=np.int64))
        kind, extra = "i", [width, 0]
    elif kinds == {float}:
        arr = np.array(present, dtype=np.float64)
        k = _decimals(arr)
        if k is not None:
            width, raw = _zigzag_pack(np.round(arr * 10.0**k).astype(np.int64))
            kind, extra = "d", [width, k]
        else:
            bits = arr.view(np.uint64)
            xored = bits ^ np.concatenate(([np.uint64(0)], bits[:-1]))
            raw = xored.view(np.uint8).reshape(-1, 8).T.tobytes()  # byte planes: zeros together
            kind, extra = "x", [8, 0]
    else:
        return ["j", list(col)]
    start = len(out)
    out += nulls
    out += raw
    return [kind, *extra, len(nulls), len(present), start]


def decode_column(desc: list, n: int, buf: memoryview) -> list:
    kind = desc[0]
    if kind == "c":
        return [desc[1]] * n
    if kind == "j":
        return desc[1]
    if kind == "J":
        return msgspec.json.decode(desc[1])
    width, k, nulls_len, count, start = desc[1:]
    raw = buf[start + nulls_len:start + nulls_len + count * width]
    if kind == "x":
        planes = np.frombuffer(raw, dtype=np.uint8).reshape(8, count).T.copy()
        values = np.bitwise_xor.accumulate(planes.view(np.uint64).ravel()).view(np.float64).tolist()
    else:
        ints = _zigzag_unpack(width, bytes(raw))
        values = ints.tolist() if kind == "i" else (ints / 10.0**k).tolist()
    if not nulls_len:
        return values
    is_null = np.unpackbits(np.frombuffer(buf[start:start + nulls_len], dtype=np.uint8), count=n).astype(bool)
    it = iter(values)
    return [None if null else next(it) for null in is_null.tolist()]


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
        cols.append([encode_column(col, buf) for col in zip(*rows)] if rows[0] else [])
    hashes = {shape_hash(j): j for j in shapes}
    header = {"v": FORMAT, "shapes": list(hashes), "seq": _runs(seq), "counts": [len(t) for t in tables],
              "cols": cols}
    head = _packer.encode(header)
    data = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(len(head).to_bytes(4, "little") + head + bytes(buf))
    return Encoded(data=data, shapes=hashes, n=len(samples), values=values)


def decode(data: bytes, shape_of: Callable[[int], bytes]) -> list[dict]:
    """The samples of a block, oldest first; `shape_of(hash)` gives a shape's JSON."""
    plain = zstandard.ZstdDecompressor().decompress(data)
    size = int.from_bytes(plain[:4], "little")
    header = _unpack.decode(plain[4:4 + size])
    if header.get("v") != FORMAT:
        raise ValueError(f"sample block format {header.get('v')!r} is not {FORMAT}")
    buf = memoryview(plain)[4 + size:]
    groups = []
    for h, count, cols in zip(header["shapes"], header["counts"], header["cols"]):
        build = builder(shape_of(h))
        columns = [decode_column(c, count, buf) for c in cols]
        rows = zip(*columns) if columns else ((),) * count
        groups.append(iter([build(r) for r in rows]))
    return [next(groups[i]) for i in _unruns(header["seq"])]


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
