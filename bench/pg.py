"""A throw-away PostgreSQL server for the benchmarks (ARCHITECTURE.md's recipe, in Python).

PostgreSQL refuses to run as root: as root, the server runs as the system user `cible-pg`
(created if missing) through `runuser`. It listens on a unix socket only, in a temporary
directory, and is stopped and removed when the `with` block ends, even on error or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

PG_USER = "cible-pg"
# Settings for a benchmark of a single-user machine: durability off (as in the test suite), and
# memory for a million-row base. They are printed in RESULTS.md.
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "1GB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
}


def pg_bin() -> Path:
    """The directory of initdb/pg_ctl: from PATH, else Debian's /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for candidate in candidates:
        if (candidate / "initdb").exists():
            return candidate
    raise SystemExit(
        "PostgreSQL server binaries are missing (no initdb on PATH nor in "
        "/usr/lib/postgresql/*/bin): apt-get install -y postgresql"
    )


def _as_pg(command: list[str]) -> list[str]:
    return ["runuser", "-u", PG_USER, "--", *command] if os.geteuid() == 0 else command


def _ensure_user() -> None:
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            check=True,
        )


def server_version() -> str:
    out = subprocess.run([str(pg_bin() / "postgres"), "--version"], capture_output=True, text=True)
    return out.stdout.strip()


@contextlib.contextmanager
def temporary_postgres(port: int = 54_401, database: str = "cible") -> Iterator[str]:
    """Start a server, create `database`, yield its URL for CIBLE_DATABASE_URL, then stop it."""
    _ensure_user()
    binaries = pg_bin()
    directory = Path(tempfile.mkdtemp(prefix="cible-bench-pg."))
    directory.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(directory, user=PG_USER)
    data = directory / "data"
    started = False
    try:
        subprocess.run(
            _as_pg(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = " ".join(
            [f"-p {port}", f"-k {directory}", "-c listen_addresses=''"]
            + [f"-c {name}={value}" for name, value in SERVER_SETTINGS.items()]
        )
        subprocess.run(
            _as_pg(
                [
                    str(binaries / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(directory / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        started = True
        import psycopg

        with psycopg.connect(
            host=str(directory), port=port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{database}"')
        # The socket directory goes percent-encoded in the host part (dj-database-url then fills
        # HOST; a ?host= parameter would only land in OPTIONS).
        host = str(directory).replace("/", "%2F")
        yield f"postgres://postgres@{host}:{port}/{database}"
    finally:
        if started:
            for mode in ("fast", "immediate"):
                stopped = subprocess.run(
                    _as_pg([str(binaries / "pg_ctl"), "-D", str(data), "-m", mode, "-w", "stop"]),
                    capture_output=True,
                )
                if stopped.returncode == 0:
                    break
        shutil.rmtree(directory, ignore_errors=True)


def rerun_in_fresh_database(script: str, *, db: str, pg_port: int, name: str) -> None:
    """Run `script` again, with the same arguments, on a database of its own: a SQLite file in
    a temporary folder, or a throw-away PostgreSQL server (`db == "postgres"`). The script
    measures when it finds CIBLE_DATABASE_URL set."""
    import sys

    command = [sys.executable, script, *sys.argv[1:]]
    with tempfile.TemporaryDirectory(prefix=f"cible-bench-{name}.") as directory:
        if db == "sqlite":
            url = f"sqlite:///{Path(directory) / f'{name}.sqlite3'}"
            environment = {**os.environ, "CIBLE_DATABASE_URL": url, "CIBLE_VAR_DIR": directory}
            subprocess.run(command, env=environment, check=True)
            return
        with temporary_postgres(port=pg_port, database=f"cible_{name}_bench") as url:
            environment = {**os.environ, "CIBLE_DATABASE_URL": url, "CIBLE_VAR_DIR": directory}
            subprocess.run(command, env=environment, check=True)
