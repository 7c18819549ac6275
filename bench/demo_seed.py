"""Benchmark of `make demo`'s seeding (not a test): seconds per seeder for the default size.

    .venv/bin/python bench/demo_seed.py                    # --borrowers 5000, as `make demo`
    .venv/bin/python bench/demo_seed.py --borrowers 1000   # a quick check

Seeds a fresh SQLite database in a temporary directory exactly as `lenddesk demo --no-serve` does
(migrations, demo users, then every module of `cli.DEMO_SEEDERS` in its own unit of work) inside a
child process, and prints each seeder's wall and CPU seconds, the total, the child's peak RSS and
the load average before and after (the machine is shared: compare CPU seconds across runs).
Target (issue 22): the whole seeding under 60 s. Figures go into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60.0

CHILD = """
import importlib, json, resource, sys, time
started, cpu_started = time.perf_counter(), time.process_time()
from lenddesk.cli import DEMO_SEEDERS, seed_demo_users
from lenddesk.core.db import unit_of_work, upgrade_database
from lenddesk.core.settings import get_settings
steps = []
def timed(name, work):
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    steps.append((name, time.perf_counter() - wall, time.process_time() - cpu))
timed("migrations", upgrade_database)
timed("demo users", lambda: seed_demo_users(get_settings().demo_password))
def seeder(name):
    def run():
        with unit_of_work() as session:
            importlib.import_module(name).seed_demo(session, borrowers=int(sys.argv[1]))
    return run
for name in DEMO_SEEDERS:
    timed(name, seeder(name))
print(json.dumps({
    "steps": steps,
    "wall": time.perf_counter() - started,
    "cpu": time.process_time() - cpu_started,
    "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lenddesk-demo-seed-") as folder:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "LENDDESK_DATABASE_URL": f"sqlite:///{Path(folder) / 'demo.db'}",
        }
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        output = subprocess.run(
            [sys.executable, "-c", CHILD, str(args.borrowers)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        process_seconds = time.perf_counter() - started
    figures = json.loads(output.strip().splitlines()[-1])
    print(f"demo seeding, --borrowers {args.borrowers}, SQLite (load average {load_before:.1f} before)")
    print(f"{'step':<28} {'wall s':>8} {'cpu s':>8}")
    for name, wall, cpu in figures["steps"]:
        print(f"{name:<28} {wall:8.2f} {cpu:8.2f}")
    verdict = "met" if process_seconds <= TARGET_SECONDS else "NOT met"
    print(f"{'seeding (inside the process)':<28} {figures['wall']:8.2f} {figures['cpu']:8.2f}")
    print(
        f"whole process (start-up included): {process_seconds:.2f} s;"
        f" target ≤ {TARGET_SECONDS:.0f} s {verdict}"
    )
    print(f"peak RSS {figures['rss_mib']:.0f} MiB; load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
