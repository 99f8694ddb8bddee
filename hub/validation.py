"""Ingest validation against forge_contracts: each sample is checked against its
schema's Struct, numeric fields given as strings become numbers, non-finite numbers
(NaN, Infinity, or the strings "nan"/"inf") become null, and fields the Structs do not
name are kept as the agent sent them."""
from __future__ import annotations

import json
import math
import re

import msgspec

from forge_contracts.samples import sample_type
from forge_contracts.wire import Identity

from .errors import ApiError, bad_request


def _merge(raw: object, known: object) -> object:
    """The agent's value with the typed reading of every field the Structs know."""
    if isinstance(raw, dict) and isinstance(known, dict):
        return {k: _merge(v, known[k]) if k in known else v for k, v in raw.items()}
    if isinstance(raw, list) and isinstance(known, list) and len(raw) == len(known):
        return [_merge(a, b) for a, b in zip(raw, known)]
    return known


def finite(value: object) -> object:
    """`value` with every non-finite float replaced by None (so JSON out stays strict)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def _where(err: msgspec.ValidationError, prefix: str, value: object = None, t: type | None = None) -> str:
    text = str(err)
    if " - at `$" in text:
        what, _, path = text.rpartition(" - at `$")
        path = path.rstrip("`")
        if t is not None and "[...]" in path:
            path = _name_key(value, t, path)
        return f"{prefix}{path}: {what}"
    return f"{prefix}: {text}"


_STEP = re.compile(r'\.([A-Za-z_]\w*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
MAX_KEYS_NAMED = 100  # entries of a mapping tried one by one to name the bad one


def _steps(path: str) -> list[str | int] | None:
    steps, at = [], 0
    while at < len(path):
        m = _STEP.match(path, at)
        if m is None:
            return None
        field, index, key = m.groups()
        steps.append(field if field is not None else int(index) if index is not None else json.loads(key))
        at = m.end()
    return steps


def _with(obj: object, steps: list[str | int], leaf: object) -> object:
    """`obj` with the value at `steps` replaced by `leaf`, copying only the containers on the way."""
    if not steps:
        return leaf
    copy = list(obj) if isinstance(obj, list) else dict(obj)  # type: ignore[call-overload]
    copy[steps[0]] = _with(copy[steps[0]], steps[1:], leaf)
    return copy


def _name_key(value: object, t: type, path: str) -> str:
    """msgspec marks a value inside a mapping `[...]`, not by its key (`.sensors.fans_rpm[...]`).
    The key is the first whose entry alone, in place of the mapping, fails the same way:
    msgspec reports the first error in order, so that is the entry it refused. Only the
    first mapping on the path is named (the schema nests none in another)."""
    mark = path.find("[...]")
    head = _steps(path[:mark])
    mapping: object = value
    try:
        for step in head or ():
            mapping = mapping[step]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return path
    if head is None or not isinstance(mapping, dict) or len(mapping) > MAX_KEYS_NAMED:
        return path
    for key, entry in mapping.items():
        try:
            msgspec.convert(_with(value, head, {key: entry}), t, strict=False)
        except msgspec.ValidationError as e:
            if str(e).rpartition(" - at `$")[2].rstrip("`") == path:
                return f"{path[:mark]}[{json.dumps(key)}]{path[mark + 5:]}"
    return path


def clean_sample(sample: dict, index: int, schema_version: int) -> dict:
    """The sample to store. The common case is checked at C speed and stored as sent: a
    sample decoded from JSON whose fields all have their schema's types holds only finite
    numbers (msgspec refuses NaN, Infinity and 1e400 while decoding). Only a sample with a
    numeric string ("12.5", "nan") takes the slow path, which rewrites those fields."""
    t = sample_type(schema_version)
    try:
        msgspec.convert(sample, t)
        return sample
    except msgspec.ValidationError:
        pass
    try:
        typed = msgspec.convert(sample, t, strict=False)
    except msgspec.ValidationError as e:
        raise bad_request(_where(e, f"samples[{index}]", sample, t), "invalid_sample") from None
    return finite(_merge(sample, msgspec.to_builtins(typed)))  # type: ignore[return-value]


def clean_identity(node: dict) -> dict:
    try:
        typed = msgspec.convert(node, Identity)
    except msgspec.ValidationError as e:
        raise bad_request(_where(e, "node"), "invalid_identity") from None
    out = msgspec.to_builtins(typed)
    return {k: v[:128] if isinstance(v, str) else v for k, v in out.items()}


def check_sample_size(sample: dict, index: int, limit: int) -> None:
    size = len(msgspec.json.encode(sample))
    if size > limit:
        raise ApiError(413, "too_large",
                       f"samples[{index}] is {size} bytes; the hub stores at most {limit} bytes per sample "
                       f"(max_sample_bytes)")
