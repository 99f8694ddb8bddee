"""One job in a child process: limits, progress messages, and suspend/resume from the parent.

The child comes from a fork server (or `spawn` on Windows; never `fork` from a threaded parent),
caps its own address space where the OS allows it, solves through the registry and
sends `("progress", dict)`, then `("result", dict)` or `("error", text)` on a pipe.
A child that dies without a word (a crashing solver, the OOM killer, a kill) is
noticed by the parent from its exit code.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import psutil

PRELOAD = ["forge_desktop.forkserver_guard", "forge_desktop.runner", "forge_desktop.solvers.registry", "ortools.sat.python.cp_model"]


def _context() -> mp.context.BaseContext:
    """`forkserver` where the OS has it: job children fork from a small server process that
    imported the solver registry and CP-SAT once (about 0.3 s saved per job), and never from
    our threaded process. `spawn` elsewhere (Windows)."""
    if "forkserver" in mp.get_all_start_methods():
        # The pid that starts the next generation: read by forkserver_guard in the fork server,
        # and (set again by this import inside the fork server) by its job children.
        os.environ["FORGE_FORKSERVER_PARENT"] = str(os.getpid())
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return mp.get_context("spawn")


_CTX = _context()


def _limit_memory(mb: int | None) -> None:
    if not mb:
        return
    try:
        import resource
    except ImportError:  # Windows: no rlimits; a job object would be the way, not worth it here
        return
    limit = mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass


def _quiet_stdout() -> None:
    """Solvers' native code prints banners (HiGHS: "Running HiGHS ...") straight to fd 1, which
    is the agent's terminal or log: point the child's fd 1 at the null device. The child speaks
    only through its pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def child_main(job_type: str, payload: dict, conn: Connection, memory_mb: int | None) -> None:
    from forge_desktop.lifetime import die_with_parent
    # The fork server's pid (runner, imported there, set it): the fork server may already be
    # gone by now, and getppid() would then name whoever adopted us.
    die_with_parent(int(os.environ.get("FORGE_FORKSERVER_PARENT", "0")) or None)
    _quiet_stdout()
    _limit_memory(memory_mb)
    from forge_desktop.solvers import registry

    def progress(p: dict) -> None:
        try:
            conn.send(("progress", p))
        except (BrokenPipeError, OSError):
            pass

    try:
        result = registry.solve(job_type, payload, progress)
        conn.send(("result", result))
    except MemoryError:
        conn.send(("error", f"out of memory (limit {memory_mb} MB)"))
    except Exception as e:
        conn.send(("error", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=8)}"))
    finally:
        conn.close()


@dataclass
class RunningJob:
    """A job's child process, as the worker sees it."""
    job: dict
    process: mp.process.BaseProcess
    conn: Connection
    time_limit_s: float
    started: float = field(default_factory=time.monotonic)
    suspended_since: float | None = None
    suspended_total: float = 0.0
    last_progress: dict | None = None
    outcome: tuple[str, object] | None = None

    @property
    def id(self) -> int:
        return int(self.job["id"])

    @property
    def attempt(self) -> int:
        return int(self.job["attempt_count"])

    @property
    def suspended(self) -> bool:
        return self.suspended_since is not None

    def running_time(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        paused = self.suspended_total + ((now - self.suspended_since) if self.suspended_since else 0.0)
        return now - self.started - paused

    def poll(self) -> list[dict]:
        """Read what the child said; returns new progress dicts, records the outcome when it ends."""
        updates = []
        try:
            while self.outcome is None and self.conn.poll():
                kind, value = self.conn.recv()
                if kind == "progress":
                    self.last_progress = value
                    updates.append(value)
                else:
                    self.outcome = (kind, value)
        except (EOFError, OSError):
            pass
        if self.outcome is None and not self.process.is_alive():
            self.process.join(1)
            try:
                while self.conn.poll():
                    kind, value = self.conn.recv()
                    if kind != "progress":
                        self.outcome = (kind, value)
            except (EOFError, OSError):
                pass
            if self.outcome is None:
                self.outcome = ("error", f"solver process died (exit code {self.process.exitcode})")
        if self.outcome is None and not self.suspended and self.running_time() > self.time_limit_s:
            self.kill()
            self.outcome = ("error", f"time limit of {self.time_limit_s:.0f} s exceeded")
        return updates

    def _tree(self) -> list[psutil.Process]:
        try:
            p = psutil.Process(self.process.pid)
            return [p, *p.children(recursive=True)]
        except psutil.Error:
            return []

    def suspend(self) -> None:
        if self.suspended:
            return
        for p in self._tree():
            try:
                p.suspend()
            except psutil.Error:
                pass
        self.suspended_since = time.monotonic()

    def resume(self) -> None:
        if not self.suspended:
            return
        for p in self._tree():
            try:
                p.resume()
            except psutil.Error:
                pass
        self.suspended_total += time.monotonic() - (self.suspended_since or time.monotonic())
        self.suspended_since = None

    def kill(self) -> None:
        for p in reversed(self._tree()):
            try:
                p.kill()
            except psutil.Error:
                pass
        self.process.join(5)
        self.conn.close()


def start_job(job: dict, time_limit_s: float, memory_mb: int | None) -> RunningJob:
    parent, child = _CTX.Pipe(duplex=False)
    proc = _CTX.Process(target=child_main, args=(job["type"], job["payload"], child, memory_mb),
                        name=f"forge-job-{job['id']}", daemon=True)
    proc.start()
    child.close()
    return RunningJob(job=job, process=proc, conn=parent, time_limit_s=time_limit_s)
