"""A throwaway PostgreSQL server on loopback for the serving and dbt-on-PostgreSQL tests (the session fixture
`postgres_server`, made available everywhere by tests/conftest.py): initdb + pg_ctl from the machine's
PostgreSQL (as the `postgres` system user when the tests run as root, since initdb refuses root), password
authentication over TCP, the socket inside the data folder. Skipped, saying why, only when no PostgreSQL
server binaries exist (`.ci/run` installs them)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ADMIN_USER = "boligsosial_admin"


def postgres_bin_dir() -> Path | None:
    candidates = [os.environ.get("BOLIGSOSIAL_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    which = shutil.which("pg_ctl")
    if which:
        candidates.append(str(Path(which).resolve().parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    port: int
    password: str
    as_user: list[str]

    def url(self, user: str = ADMIN_USER, password: str | None = None, database: str = "postgres") -> str:
        return f"postgresql://{user}:{self.password if password is None else password}@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args],
                              capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "fast", "-w")


def start_postgres(password: str = "admin-secret") -> PostgresServer:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install -y postgresql")
    root = Path(tempfile.mkdtemp(prefix="boligsosial-pg-"))
    data_dir = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres system user
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres", "postgres")
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if as_user:
        shutil.chown(pwfile, "postgres", "postgres")
    pwfile.chmod(0o600)
    init = subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data_dir), "-U", ADMIN_USER,
                           f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=trust",
                           "-E", "UTF8", "--locale=C.UTF-8" if _has_c_utf8() else "--no-locale"],
                          capture_output=True, text=True, timeout=300)
    pwfile.unlink()
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed: {init.stdout}\n{init.stderr}")
    port = _free_port()
    server = PostgresServer(bin_dir, data_dir, port, password, as_user)
    options = f"-h 127.0.0.1 -p {port} -k {data_dir} -c fsync=off -c full_page_writes=off -c max_connections=40"
    started = server.pg_ctl("start", "-w", "-t", "60", "-o", options, "-l", str(data_dir / "server.log"))
    if started.returncode != 0:
        log = (data_dir / "server.log").read_text() if (data_dir / "server.log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {started.stdout}\n{started.stderr}\n{log}")
    return server


def _has_c_utf8() -> bool:
    result = subprocess.run(["locale", "-a"], capture_output=True, text=True)
    return any(line.lower().replace("-", "") in ("c.utf8",) for line in result.stdout.split())


@pytest.fixture(scope="session")
def postgres_server():
    if postgres_bin_dir() is None:
        pytest.skip("no PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin and PATH); "
                    "`apt-get install -y postgresql` provides them (.ci/run does)")
    server = start_postgres()
    yield server
    server.stop()
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)
