"""Imported first by the job fork server, and only there: the fork server dies with the
agent that started it (Linux PR_SET_PDEATHSIG), so a `kill -9` of the agent leaves no
fork server behind. Its job children get the same guard in `runner.child_main`."""
from __future__ import annotations

import os

from .lifetime import die_with_parent

die_with_parent(int(os.environ.get("FORGE_FORKSERVER_PARENT", "0")) or None)
