"""The tests' PostgreSQL: installed by `make test`, and a clear failure (never a skip) without."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests import postgres as pg_helper

ROOT = Path(__file__).resolve().parents[2]


def test_the_install_script_does_nothing_when_postgresql_is_there():
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure-postgres.sh")], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


def test_without_the_binaries_the_cluster_says_how_to_install_them(monkeypatch, tmp_path):
    monkeypatch.setattr(pg_helper, "PG_BIN", tmp_path / "nothing-here")
    with pytest.raises(pg_helper.PostgresMissing, match="make postgres"):
        pg_helper.PostgresCluster()


def test_the_cluster_runs_unprivileged_on_loopback_and_hands_out_fresh_databases(postgres):
    first, second = postgres.new_database(), postgres.new_database()
    assert first != second and "@127.0.0.1:" in first
    engine = postgres.admin
    with engine.connect() as connection:
        superuser = connection.exec_driver_sql("SHOW is_superuser").scalar()
        user = connection.exec_driver_sql(
            "SELECT usename FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        ).scalar()
    assert (superuser, user) == ("on", "postgres")  # the database role; the OS user is not root
    owner = subprocess.run(
        ["stat", "-c", "%U", str(postgres.data)], capture_output=True, text=True
    ).stdout.strip()
    assert owner != "root"
    postgres.drop_database(first)
    postgres.drop_database(second)
