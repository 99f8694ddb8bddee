"""`forge hub` tunes the garbage collector once serving (hub/server.py: settle_gc): what
existed at start is frozen and the young generation is collected less often, but cyclic
garbage made afterwards, as a hub makes it (requests' exception tracebacks), is still
freed without anyone calling gc.collect(). Run in a child interpreter: the settings are
process-wide and must not leak into the test process."""
from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import gc, weakref
    from hub.server import GC_THRESHOLDS, settle_gc

    class Node:
        pass

    def cycle():
        a, b = Node(), Node()
        a.other, b.other = b, a
        try:
            raise ValueError("a request's error")
        except ValueError as e:  # a traceback that holds its frame: a cycle
            a.error = e
        return a

    kept = cycle()
    settle_gc()
    assert gc.get_threshold() == GC_THRESHOLDS, gc.get_threshold()
    assert gc.get_freeze_count() > 1000, gc.get_freeze_count()
    freed = []
    for i in range(200_000):
        weakref.finalize(cycle(), freed.append, i)
    print(len(freed), kept.other.other is kept)
""")


def test_cycles_made_after_the_hub_settles_are_still_collected():
    r = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    freed, kept_alive = r.stdout.split()
    # 200,000 cycles of garbage; the collector ran by itself and freed nearly all of them
    # (at most the young generation's last 10,000 allocations may still be waiting).
    assert int(freed) > 190_000, r.stdout
    assert kept_alive == "True"
