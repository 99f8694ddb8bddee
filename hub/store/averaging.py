"""A bucket's average as a sample, for every backend: the leaves each backend sums up (in
SQL, or here over decoded samples) put back into the shape of the bucket's latest sample.

Numbers are averaged leaf by leaf (nulls ignored), strings and booleans are the latest
given. Lists are averaged element by element, except the schema 2 lists of things that
come and go (docs/SAMPLES.md): `gpus` by vendor and index, `disk.devices` and
`net.interfaces` by name, `containers` by id, so an interface that appears in the
middle of a minute is not averaged with its neighbour. Only their entries' own fields
are averaged (a nested value comes from the latest sample), and an entry without its key
is left out of the average. `processes` (a top-15 that changes every 5 s) are left out of
the tiers altogether: an average of different processes means nothing, and the raw
samples keep them for the 48 h of raw history.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

# list path -> fields that name an entry
KEYED: dict[tuple[str, ...], tuple[str, ...]] = {
    ("gpus",): ("vendor", "index"),
    ("disk", "devices"): ("name",),
    ("net", "interfaces"): ("name",),
    ("containers",): ("id",),
}
LEFT_OUT = ("processes",)  # top-level sections the tiers do not carry


@dataclass(frozen=True)
class Key:
    """A step into a keyed list: the entry whose key fields hold these values."""
    fields: tuple[tuple[str, str | int], ...]

    @property
    def name(self) -> str:
        """The key as one string, as the SQL backends build it: values joined by '/'."""
        return "/".join(str(v) for _, v in self.fields)


def key_named(list_path: tuple, name: str) -> Key | None:
    """The Key of a keyed list's entry from its string (`eth0`, `nvidia/0`), or None."""
    fields = KEYED.get(list_path)
    if fields is None:
        return None
    values: list[str | int] = name.rsplit("/", len(fields) - 1) if len(fields) > 1 else [name]
    if len(values) != len(fields):
        return None
    if "index" in fields:
        i = fields.index("index")
        if not values[i].isdigit():
            return None
        values[i] = int(values[i])
    return Key(tuple(zip(fields, values)))


Steps = tuple[Any, ...]  # dict keys (str), list indexes (int), Key


def entry_key(list_path: tuple, entry: Any) -> Key | None:
    """The key of an entry of a keyed list, or None (not keyed there, or the entry lacks it).
    Names must be strings and a GPU index an integer, as the collector sends them."""
    fields = KEYED.get(list_path)
    if fields is None or type(entry) is not dict:
        return None
    parts = []
    for f in fields:
        v = entry.get(f)
        if (f == "index" and type(v) is int and v >= 0) or (f != "index" and type(v) is str):
            parts.append((f, v))
        else:
            return None
    return Key(tuple(parts))


def leaves(sample: dict) -> list[tuple[Steps, Any]]:
    """Every leaf of a sample with its path, keyed lists by entry key, `processes` left out."""
    out: list[tuple[Steps, Any]] = []
    if type(sample) is dict:
        for k, v in sample.items():
            if k not in LEFT_OUT:
                _walk(v, (k,), out)
    return out


def _walk(value: Any, steps: Steps, out: list) -> None:
    t = type(value)
    if t is dict:
        for k, v in value.items():
            _walk(v, steps + (k,), out)
    elif t is list:
        if steps in KEYED:
            names = KEYED[steps]
            for entry in value:
                key = entry_key(steps, entry)
                if key is not None:
                    for field, v in entry.items():
                        if field not in names and type(v) is not dict and type(v) is not list:
                            out.append((steps + (key, field), v))
            return
        for i, v in enumerate(value):
            _walk(v, steps + (i,), out)
    else:
        out.append((steps, value))


def sample_leaves(samples: list[dict]) -> tuple[int, dict | None, list[tuple[Steps, float | None, Any]]]:
    """The count, the latest sample, and per leaf path the mean of its numbers, or, only when
    the bucket changed shape, the latest string or boolean given (samples oldest first): what
    the SQLite backend computes in SQL, here over decoded samples (compacted blocks)."""
    if not samples:
        return 0, None, []
    sums: dict[Steps, list] = {}
    texts: dict[Steps, Any] = {}
    for s in samples:
        for steps, v in leaves(s):
            t = type(v)
            if t is int or t is float:
                acc = sums.get(steps)
                if acc is None:
                    sums[steps] = [v, 1]
                else:
                    acc[0] += v
                    acc[1] += 1
            elif t is str or t is bool:
                texts[steps] = v
    latest = samples[-1]
    means = [(steps, total / count, None) for steps, (total, count) in sums.items()]
    if numeric_paths(latest) == sums.keys():
        return len(samples), latest, means
    return len(samples), latest, means + [(steps, None, v) for steps, v in texts.items()]


def numeric_paths(sample: dict) -> set[Steps]:
    return {steps for steps, v in leaves(sample) if type(v) is int or type(v) is float}


def bucket_average(latest: dict, averaged: list[tuple[Steps, float | None, Any]]) -> dict:
    """The averaged sample of one bucket, shaped like its latest sample (without `processes`):
    every number its mean rounded to 3 decimals, every string or boolean the latest given.
    `averaged` is (path, mean, latest non-number) per leaf."""
    out = copy.deepcopy({k: v for k, v in latest.items() if k not in LEFT_OUT})
    lengths = {path: len(entries) for path in KEYED if type(entries := _at(out, path)) is list}
    for steps, mean, last in averaged:
        value = round(mean, 3) if mean is not None else last
        if value is not None and steps and steps[0] not in LEFT_OUT and not _names_entry(steps):
            put_leaf(out, steps, value)
    for path in KEYED:  # entries the latest sample lacks come after its own, by key
        entries = _at(out, path)
        if type(entries) is list and len(entries) > lengths.get(path, 0) + 1:
            n = lengths.get(path, 0)
            entries[n:] = sorted(entries[n:], key=lambda e: entry_key(path, e).name)
    return out


def _at(root: dict, path: tuple) -> Any:
    node: Any = root
    for step in path:
        if type(node) is not dict:
            return None
        node = node.get(step)
    return node


def _names_entry(steps: Steps) -> bool:
    """A key field of a keyed list's entry (carried by its Key, never averaged)."""
    return len(steps) >= 2 and type(steps[-2]) is Key and steps[-1] in KEYED.get(steps[:-2], ())


def put_leaf(root: dict, steps: Steps, value: object) -> None:
    """Set root[steps...] = value, making the dicts and lists on the way (lists padded with
    nulls, a keyed list's entry appended) where the latest sample lacks them."""
    node: Any = root
    path: tuple = ()
    for step, nxt in zip(steps, steps[1:] + (None,)):
        if type(step) is Key:
            found = next((e for e in node if entry_key(path, e) == step), None)
            if found is None:
                found = dict(step.fields)
                node.append(found)
            if nxt is None:  # a key is never a leaf
                return
            node, path = found, path + (step,)
            continue
        if isinstance(step, int):
            node.extend([None] * (step + 1 - len(node)))
        if nxt is None:
            node[step] = value
            return
        child = node[step] if isinstance(step, int) else node.get(step)
        want = list if isinstance(nxt, (int, Key)) else dict
        if not isinstance(child, want):
            child = want()
            node[step] = child
        node, path = child, path + (step,)


def steps_of(path: list) -> Steps | None:
    """A leaf path as the PostgreSQL backend's SQL gives it (keys, indexes, and `{"k": name}`
    for an entry of a keyed list) as steps, or None for a leaf the tiers leave out: in
    `processes`, in a keyed list's entry without its key, or nested inside an entry."""
    steps: list = []
    for p in path:
        here = tuple(steps)
        if here in KEYED:
            key = key_named(here, p["k"]) if type(p) is dict and type(p.get("k")) is str else None
            if key is None:
                return None
            steps.append(key)
        elif type(p) is str:
            steps.append(p)
        elif type(p) in (int, float):
            steps.append(int(p))
        else:
            return None
    if not steps or steps[0] in LEFT_OUT:
        return None
    for i, step in enumerate(steps):
        if type(step) is Key and len(steps) != i + 2:
            return None
    return tuple(steps)
