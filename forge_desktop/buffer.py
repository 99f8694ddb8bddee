"""An on-disk NDJSON buffer of samples that could not be pushed.

Samples are appended in order and flushed oldest first, so a flaky network loses
nothing; the hub dedupes on (node, ts), so a resend never doubles anything. The file
is bounded: past `max_bytes` the oldest lines are dropped (with a warning).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from .atomic import replace_file

log = logging.getLogger("forge.agent")


class SampleBuffer:
    def __init__(self, path: Path, max_bytes: int = 50 * 1024 * 1024):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, samples: list[dict]) -> None:
        if not samples:
            return
        text = "".join(json.dumps(s, separators=(",", ":")) + "\n" for s in samples)
        with self._lock:
            with open(self.path, "ab") as f:
                if f.tell() and not self._ends_with_newline():
                    text = "\n" + text  # a torn last line (a crash mid-write) stays a line of its own
                f.write(text.encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
            if self.path.stat().st_size > self.max_bytes:
                self._trim()

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"

    def _trim(self) -> None:
        lines = self.path.read_bytes().splitlines(keepends=True)
        keep, size = [], 0
        for line in reversed(lines):
            if size + len(line) > self.max_bytes * 0.9:
                break
            keep.append(line)
            size += len(line)
        dropped = len(lines) - len(keep)
        log.warning("offline buffer over %d bytes: dropped the %d oldest samples", self.max_bytes, dropped)
        self._write(b"".join(reversed(keep)))

    def _write(self, data: bytes) -> None:
        replace_file(self.path, data, durable=True)

    def peek(self, n: int) -> list[dict]:
        """The oldest `n` buffered samples; a corrupt line (not JSON, or JSON but not an
        object) comes back as {"_corrupt": True} and is logged."""
        out: list[dict] = []
        with self._lock:
            if not self.path.exists():
                return out
            with open(self.path, "rb") as f:
                for line in f:
                    if len(out) >= n:
                        break
                    try:
                        sample = json.loads(line)
                    except ValueError:
                        sample = None
                    if not isinstance(sample, dict):
                        log.warning("skipping a corrupt line in the offline buffer")
                        sample = {"_corrupt": True}
                    out.append(sample)
        return out

    def drop(self, n: int) -> None:
        """Remove the oldest `n` lines (after they were delivered)."""
        with self._lock:
            if not self.path.exists():
                return
            lines = self.path.read_bytes().splitlines(keepends=True)
            rest = lines[n:]
            if rest:
                self._write(b"".join(rest))
            else:
                self.path.unlink()

    def __len__(self) -> int:
        with self._lock:
            if not self.path.exists():
                return 0
            with open(self.path, "rb") as f:
                return sum(1 for _ in f)
