"""Ingest validation against forge_contracts: each sample is checked against its
schema's Struct, numeric fields given as strings become numbers, non-finite numbers
(NaN, Infinity, or the strings "nan"/"inf") become null, and fields the Structs do not
name are kept as the agent sent them."""
from __future__ import annotations

import math

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


def _where(err: msgspec.ValidationError, prefix: str) -> str:
    text = str(err)
    if " - at `$" in text:
        what, _, path = text.rpartition(" - at `$")
        return f"{prefix}{path.rstrip('`')}: {what}"
    return f"{prefix}: {text}"


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
        raise bad_request(_where(e, f"samples[{index}]"), "invalid_sample") from None
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
