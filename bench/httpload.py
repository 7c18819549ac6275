"""HTTP load helpers for benchmarks: start uvicorn apps, drive them with wrk, read its figures.

wrk (Debian package `wrk`) generates the load from C so that the client does not eat the CPU
the server is being measured on. Each request body is made by a Lua script so that every request
carries a unique message id.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %.3f, "errors": %d, "non_2xx": %d, '
    .. '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int
    non_2xx: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def serve(app: str, *, port: int, workers: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env={**os.environ, **env},
        cwd=cwd,
    )
    try:
        wait_for_port(port, process)
    except RuntimeError:
        stop(process)  # a server slow to start must not outlive the benchmark
        raise
    time.sleep(1.0)  # let every worker finish importing before the load starts
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def require_wrk() -> str:
    """wrk, installed through the project's package script when it is missing (as the tests do)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        script = Path(__file__).resolve().parent.parent / "scripts" / "system-packages.sh"
        subprocess.run(["bash", str(script), "--bench"], check=False)
        wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("this benchmark needs wrk: run `make bench-packages` as root (apt-get install wrk)")
    return wrk


def run_wrk(url: str, script: str, *, connections: int, seconds: int, threads: int = 1) -> LoadResult:
    """Drive `url` with wrk using the Lua `script` (which builds the requests) plus our report."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script + WRK_REPORT)
        path = handle.name
    try:
        output = subprocess.run(
            [
                require_wrk(),
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--timeout",
                "5s",
                "-s",
                path,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(path)
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    return LoadResult(**json.loads(line.removeprefix("WRK_JSON ")))
