"""A throwaway PostgreSQL cluster for the tests: Debian's initdb and pg_ctl in a temp folder,
trust auth, listening on 127.0.0.1 only, run as the `postgres` user when the tests run as
root (initdb refuses root). FORGE_TEST_PG_URL points the tests at a server of your own
instead (its user needs CREATEDB: each test gets a fresh database)."""
from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit


def pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PostgresServer:
    """A cluster of our own on `port`; `url(db)` names a database on it."""

    def __init__(self, port: int, durable: bool = False):
        """`durable=False` turns fsync off: a test cluster need not survive a power cut, and the
        machine is shared. Benchmarks want PostgreSQL's defaults (`durable=True`)."""
        if not pg_bin("initdb"):
            raise RuntimeError("no initdb: apt-get install -y postgresql")
        self.port = port
        self.options = "" if durable else "-c fsync=off -c synchronous_commit=off"
        self.dir = tempfile.mkdtemp(prefix="forge-test-pg-")
        self.data = os.path.join(self.dir, "data")
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run(self.as_user + [pg_bin("initdb"), "-D", self.data, "-U", "postgres", "--auth=trust",
                                       "-E", "UTF8", "--no-sync"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.start()
        self.base_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def start(self) -> None:
        subprocess.run(self.as_user + [pg_bin("pg_ctl"), "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w",
                                       "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                                             f"-c max_connections=200 {self.options}", "start"],
                       check=True, stdout=subprocess.DEVNULL)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(self.as_user + [pg_bin("pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def available() -> bool:
    return pg_bin("initdb") is not None and pg_bin("pg_ctl") is not None


_shared: PostgresServer | None = None


def shared() -> PostgresServer:
    """One cluster for the whole test session, started on first use, removed at exit."""
    global _shared
    if _shared is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        _shared = PostgresServer(port)
        atexit.register(stop_shared)
    return _shared


def stop_shared() -> None:
    """Remove the session's cluster (conftest calls it at the end of the session; atexit is
    the fallback for a session that ends otherwise)."""
    global _shared
    if _shared is not None:
        _shared.destroy()
        _shared = None


def with_database(url: str, db: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + db))


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A fresh, empty database on the server for one test; dropped afterwards."""
    import psycopg
    name = "forge_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
