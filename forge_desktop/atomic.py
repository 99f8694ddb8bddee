"""Replacing a small file so that a reader never sees half of it, and so that a full disk
never wedges the writer (the agent's sample buffer and its health file)."""
from __future__ import annotations

import os
from pathlib import Path


def replace_file(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `data` to a temp file beside `path` and rename it over `path` (fsynced first when
    `durable`). When that fails for want of room (a full disk has none for the copy) and
    `data` is no longer than the file, the file is overwritten in place and cut to size
    instead, which needs no new blocks; otherwise the first error is raised."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
        return
    except OSError as e:
        first = e
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass
    try:
        old_size = path.stat().st_size
    except OSError:
        raise first from None
    if len(data) > old_size:
        raise first
    with open(path, "r+b") as f:
        f.write(data)
        f.truncate()
        if durable:
            f.flush()
            os.fsync(f.fileno())
