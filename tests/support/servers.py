"""Real PostgreSQL and Redis servers for tests and benchmarks, started in a temporary directory.

PostgreSQL refuses to run as root, so when the tests run as root (CI) the server runs as the
`postgres` system user that the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found; run `make system-packages`")
    return Path(candidates[-1])


@dataclass
class PostgresServer:
    directory: Path
    port: int
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://lenddesk@127.0.0.1:{self.port}/lenddesk"

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        command = list(args)
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, check=True, capture_output=True)

    def start(self) -> PostgresServer:
        pg = _pg_bin()
        data = self.directory / "data"
        self._run(
            str(pg / "initdb"),
            "-D",
            str(data),
            "-U",
            "lenddesk",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        options = f"-p {self.port} -k {self.directory} -h 127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run(
            str(pg / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.directory / "log"),
            "-w",
            "start",
        )
        self._run(str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "lenddesk", "lenddesk")
        return self

    def create_database(self, name: str) -> str:
        self._run(
            str(_pg_bin() / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "lenddesk", name
        )
        return f"postgresql+psycopg://lenddesk@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(
            (["runuser", "-u", self.run_as, "--"] if self.run_as else [])
            + [str(_pg_bin() / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def start_postgres() -> PostgresServer:
    run_as = None
    directory = Path(tempfile.mkdtemp(prefix="lenddesk-pg-"))
    if os.geteuid() == 0:
        run_as = "postgres"
        entry = pwd.getpwnam(run_as)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    return PostgresServer(directory, free_port(), run_as).start()


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_redis() -> RedisServer:
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return RedisServer(process, port)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")
