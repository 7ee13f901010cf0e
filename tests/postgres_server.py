"""A throwaway PostgreSQL server for tests: Debian's ``postgresql`` package (``make postgres``
installs it when missing), a cluster in a temporary folder, on a free port, stopped afterwards.

PostgreSQL refuses to run as root: as root the cluster belongs to the package's ``postgres``
user and its commands run through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server(database: str = "asteriskcdrdb") -> Iterator[str]:
    """Start a cluster; yield a SQLAlchemy URL to ``database`` in it (user ``ringback``)."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL here: `make postgres` installs Debian's package")
    root = Path(tempfile.mkdtemp(prefix="ringback-pg-"))
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(root, "postgres")
        root.chmod(0o700)

    def run(*cmd: str) -> None:
        full = [str(bin_dir / cmd[0]), *cmd[1:]]
        if as_root:
            full = ["runuser", "-u", "postgres", "--", *full]
        subprocess.run(full, check=True, capture_output=True, timeout=120)

    port = _free_port()
    data = root / "data"
    run("initdb", "-D", str(data), "-U", "ringback", "-A", "trust", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run("pg_ctl", "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
    try:
        if database != "postgres":  # initdb made that one
            run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "ringback", database)
        yield f"postgresql+psycopg2://ringback@127.0.0.1:{port}/{database}"
    finally:
        run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
