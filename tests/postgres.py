"""A throwaway PostgreSQL cluster for the tests: Debian's PostgreSQL 15, started in a temporary
folder on a free port of 127.0.0.1, trust auth, a fresh database per test, removed at the end.

`make test` installs the binaries (scripts/ensure-postgres.sh); without them the fixture fails
with a message saying so, rather than skipping the PostgreSQL half of the store suite.

PostgreSQL refuses to run as root (tests run as root here and in CI), so initdb and pg_ctl run
as an unprivileged system user (`postgres`, else `nobody`) through `runuser`; the cluster's
folder is made in /tmp (pytest's own temporary folders are 0700 root) and handed to that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy

PG_VERSION = "15"
PG_BIN = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")
_USERS = ("postgres", "nobody")


class PostgresMissing(RuntimeError):
    pass


class PostgresCluster:
    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
            raise PostgresMissing(
                f"PostgreSQL {PG_VERSION} is not installed ({PG_BIN}/initdb is missing): "
                "run `make postgres` (apt-get install -y postgresql) or `make test`."
            )
        self.user = _unprivileged_user()
        self.folder = Path(tempfile.mkdtemp(prefix="reelscope-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        if self.user:
            shutil.chown(self.folder, self.user)
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        # The Unix socket in the cluster's own folder (the default one needs root): Cloud Run
        # reaches Cloud SQL that way (…?host=/cloudsql/…). fsync off (throwaway data), and
        # enough connections for several stores' pools at once.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")
        self.admin = sqlalchemy.create_engine(
            self.url("postgres"), isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def socket_url(self, url: str) -> str:
        """The same database through the Unix socket, written as Cloud SQL's URLs are."""
        database = sqlalchemy.make_url(url).database
        return f"postgresql+psycopg://postgres@/{database}?host={self.folder}&port={self.port}"

    def new_database(self) -> str:
        """A new, empty database; its URL."""
        name = "t_" + uuid.uuid4().hex[:16]
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = sqlalchemy.make_url(url).database
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        self.admin.dispose()
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(PG_BIN / program), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise subprocess.CalledProcessError(
                done.returncode, command, done.stdout, done.stderr + self._server_log()
            )

    def _server_log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "server.log").read_text()[-2000:]
        return ""


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        yield cluster
    finally:
        cluster.stop()


def _unprivileged_user() -> str | None:
    """Who runs the server: nobody in particular unless we are root, whom PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    for name in _USERS:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise PostgresMissing("Running as root and no `postgres` or `nobody` user to run PostgreSQL.")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
