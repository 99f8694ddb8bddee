"""One line of news for the person watching a terminal (`forge agent`), also logged."""
from __future__ import annotations

import logging


def say(log: logging.Logger, line: str, echo: bool) -> None:
    log.info(line)
    if not echo:
        return
    try:
        print(line, flush=True)
    except UnicodeEncodeError:  # a legacy Windows console cannot show ✓ / ✗
        print(line.encode("ascii", "replace").decode(), flush=True)
