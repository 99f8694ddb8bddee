"""Finished history blocks' samples as JSON, kept in memory for snapshot reads (issue 17).

A block that is finished (a node-minute of raw samples, a node-hour of 1m averages, a
node-day of 1h averages) changes only when a late sample is merged into it or retention
drops it, so the snapshot route need not decode it and encode its samples again on every
read. An entry holds the block's stored bytes, its samples' ts in ms and their JSON texts
joined (a block inside an answer goes into it as one piece, or one slice of it); the least recently
used entries go first once the entries' bytes pass the bound.

A hit must match the bytes the reader's own transaction just read: a write that replaced
the block between a reader's read and its `put` can only leave an entry no later read
matches, never a stale answer. The store also drops entries when it rewrites or prunes
blocks (`drop`, `drop_through`), so they do not hold memory until they age out.
"""
from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass

import msgspec
import zstandard

Key = tuple[str, str, int]  # ("raw" | "1m" | "1h", node id, block start in ms)

_ENTRY_OVERHEAD = 400  # the entry, its key (a tuple, a str, an int) and its slot in the map


@dataclass(frozen=True)
class Entry:
    data: bytes  # the block as stored
    ts: list[int]  # each sample's ts_ms, in the block's order
    joined: bytes  # the samples' JSON joined by commas
    starts: list[int]  # where each sample's JSON starts in `joined`, and len(joined) + 1
    ascending: bool  # ts strictly ascending (so ts[0] and ts[-1] bound the block)
    size: int  # bytes counted against the bound

    def texts(self) -> list[bytes]:
        """Each sample's JSON."""
        j, s = self.joined, self.starts
        return [j[a:b - 1] for a, b in zip(s, s[1:])]

    def part(self, a: int, b: int) -> bytes:
        """Samples a..b-1's JSON, joined by commas (the whole block without a copy)."""
        if a == 0 and b == len(self.ts):
            return self.joined
        return self.joined[self.starts[a]:self.starts[b] - 1] if a < b else b""


def _starts(lengths) -> list[int]:
    """Where each of texts of these lengths starts once joined by commas, and the joined
    length + 1 at the end (`Entry.starts`)."""
    starts = [0]
    for n in lengths:
        starts.append(starts[-1] + n + 1)
    return starts


def _entry(data: bytes, ts: list[int], texts: list[bytes]) -> Entry:
    return _joined_entry(data, ts, b",".join(texts), _starts(map(len, texts)))


_INT_BYTES = 32  # sys.getsizeof of a ts in ms (and more than a start's 28)


def _joined_entry(data: bytes, ts: list[int], joined: bytes, starts: list[int]) -> Entry:
    ascending = all(a < b for a, b in zip(ts, ts[1:]))
    size = (_ENTRY_OVERHEAD + sys.getsizeof(data) + sys.getsizeof(joined) + sys.getsizeof(ts)
            + sys.getsizeof(starts) + _INT_BYTES * (len(ts) + len(starts)))
    return Entry(bytes(data), ts, joined, starts, ascending, size)


_ZSTD_LEVEL = 3  # the texts repeat their keys: level 3 already takes most of it, and decompresses as fast


def stored_texts(ts: list[int], texts: list[bytes]) -> bytes:
    """A block's samples' ts and JSON texts as one compressed value, stored beside the block
    (the 1h tier's `tier_blocks.texts`): a cold read then decompresses a node-day's texts,
    already joined, instead of decoding its columns and encoding every sample again."""
    return zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(
        msgspec.msgpack.encode([ts, [len(t) for t in texts], b",".join(texts)]))


def texts_of(stored: bytes) -> tuple[list[int], bytes, list[int]]:
    """`stored_texts`' ts, the texts joined by commas, and where each starts in them (and the
    joined length + 1 at the end), as `Entry` holds them."""
    ts, lengths, joined = msgspec.msgpack.decode(zstandard.ZstdDecompressor().decompress(stored))
    return ts, joined, _starts(lengths)


class BlockCache:
    """A byte-bounded LRU map from a block's key to its samples' JSON; thread-safe."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def resize(self, max_bytes: int) -> None:
        with self._lock:
            self.max_bytes = max_bytes
            self._evict()

    def _evict(self) -> None:
        while self.bytes > self.max_bytes:
            _, gone = self._entries.popitem(last=False)
            self.bytes -= gone.size

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key, data: bytes) -> Entry | None:
        """The entry of `key` if it was made from exactly `data`."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.data != data:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: Key, data: bytes, ts: list[int], texts: list[bytes]) -> Entry:
        return self.put_entry(key, _entry(data, ts, texts))

    def put_stored(self, key: Key, data: bytes, stored: bytes) -> Entry:
        """`put` from a block's stored texts (`stored_texts`)."""
        return self.put_entry(key, _joined_entry(data, *texts_of(stored)))

    def put_entry(self, key: Key, entry: Entry) -> Entry:
        if entry.size > self.max_bytes:
            return entry
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            self._entries[key] = entry
            self.bytes += entry.size
            self._evict()
        return entry

    def drop(self, keys: list[Key]) -> None:
        """Forget blocks that were rewritten (a late sample merged in)."""
        with self._lock:
            for key in keys:
                gone = self._entries.pop(key, None)
                if gone is not None:
                    self.bytes -= gone.size

    def drop_through(self, kind: str, last_start_ms: int) -> None:
        """Forget `kind`'s blocks that start at or before `last_start_ms` (retention dropped them)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == kind and k[2] <= last_start_ms]:
                self.bytes -= self._entries.pop(key).size
