"""A throwaway PostgreSQL server for tests and `apiforge verify`.

It runs the machine's own `initdb` and `pg_ctl` in a temporary folder, listens on
a free port on 127.0.0.1 only, trusts local connections, and is removed when it
stops. PostgreSQL refuses to run as root, so under root it runs as the
`postgres` system user that Debian's package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from apiforge.errors import UserError
from apiforge.processes import free_port

__all__ = ["PostgresServer", "PostgresUnavailable", "find_pg_bin", "throwaway_postgres"]

SUPERUSER = "postgres"


class PostgresUnavailable(UserError):
    """No PostgreSQL server can be started on this machine."""


def find_pg_bin() -> Path | None:
    """The folder holding `initdb` and `pg_ctl`: on PATH, or Debian's newest version."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    return candidates[-1].parent if candidates else None


class PostgresServer:
    """One running server; :meth:`url` gives SQLAlchemy URLs for its databases."""

    def __init__(self, bin_dir: Path, base: Path) -> None:
        self.bin_dir = bin_dir
        self.base = base
        self.data = base / "data"
        self.port = free_port()
        self._user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise PostgresUnavailable(
                    "PostgreSQL cannot run as root and there is no 'postgres' user; "
                    "install Debian's postgresql package."
                ) from None
            self._user = SUPERUSER
            shutil.chown(base, user=SUPERUSER)

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            check=False,
            user=self._user,
            cwd=self.base,
        )
        if result.returncode != 0:
            log = self.base / "server.log"
            tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
            detail = (result.stderr or result.stdout or tail).strip().splitlines()
            raise PostgresUnavailable(
                f"{args[0]} failed: {detail[-1] if detail else result.returncode}"
            )

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.base / "server.log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        """Create an empty database *name* and return its SQLAlchemy URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "--", name)
        return self.url(name)

    def url(self, database: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


@contextmanager
def throwaway_postgres() -> Iterator[PostgresServer]:
    """Start a server in a temporary folder; stop it and remove the folder afterwards."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (no initdb/pg_ctl); install it, e.g. "
            "`apt-get install postgresql`."
        )
    base = Path(tempfile.mkdtemp(prefix="apiforge-pg-"))
    server = PostgresServer(bin_dir, base)
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)
