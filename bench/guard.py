"""Guard benchmark: p50 / p99 per check_contact in process, rules alone and rules + model.

    PYTHONPATH=src python bench/guard.py [--rounds 50]

Texts: the dev set (evaluation/dev/guard.jsonl: short threats, insults, reminders, English, to the
borrower and to third parties) plus a few long reminders. The target (issue 19) is p99 ≤ 1 ms per
check. On a shared machine the wall clock includes the time the process was descheduled; the
thread's CPU time per check is the code's own cost, so both are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import time as clock
from pathlib import Path

from lenddesk.collections import guard, guard_model

DEV_SET = Path(__file__).resolve().parent.parent / "evaluation" / "dev" / "guard.jsonl"
LONG = (
    "尊敬的张先生您好，您在我司的借款（合同号HT2026113000000123）本期应还金额1,234.56元，还款日为2026年12月1日。"
    "您可通过银行转账、手机银行、微信支付或支付宝还款，转账时请备注合同号。如有困难请联系我们，客服电话400-000-0000。"
) * 3


def texts() -> list[tuple[str, bool]]:
    rows = [json.loads(line) for line in DEV_SET.read_text("utf-8").splitlines() if line.strip()]
    return [(row["text"], bool(row["to_third_party"])) for row in rows] + [(LONG, False), (LONG, True)]


def measure(samples: list[tuple[str, bool]], rounds: int, *, learned: bool) -> dict[str, float]:
    situations = {
        third: guard.ContactSituation(
            recipient="third_party" if third else "self", channel="sms", local_time=clock(10, 0)
        )
        for third in (False, True)
    }
    for text, third in samples:  # warm the caches
        guard.check_contact(text, situations[third], learned=learned)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for text, third in samples:
            started, started_cpu = time.perf_counter(), time.thread_time()
            guard.check_contact(text, situations[third], learned=learned)
            wall.append(time.perf_counter() - started)
            cpu.append(time.thread_time() - started_cpu)
    wall.sort()
    cpu.sort()
    return {
        "checks": len(wall),
        "p50_ms": statistics.median(wall) * 1000,
        "p99_ms": wall[int(len(wall) * 0.99)] * 1000,
        "cpu_p99_ms": cpu[int(len(cpu) * 0.99)] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    rounds = parser.parse_args().rounds
    started = time.perf_counter()
    guard_model.current()
    print(f"model loaded in {time.perf_counter() - started:.2f} s")
    samples = texts()
    for learned in (False, True):
        figures = measure(samples, rounds, learned=learned)
        name = "rules + model" if learned else "rules only"
        print(
            f"guard ({name}): {figures['checks']:,} checks, wall p50 {figures['p50_ms']:.3f} ms,"
            f" wall p99 {figures['p99_ms']:.3f} ms, CPU-time p99 {figures['cpu_p99_ms']:.3f} ms"
            " (target ≤ 1 ms)"
        )


if __name__ == "__main__":
    main()
