"""Benchmark of the assistant's understanding with the issue-19 models, in process (no database).

Per message: normalisation, the intent model, the emotion model, the scam model and rules, FAQ
retrieval and the evidence of each verdict (`engine.understand_text`). p50/p99 over a mix of
short questions, long stories, Traditional, Cantonese, pinyin and English. Target p99 ≤ 20 ms.
Also the training time of all three models and the model file's size.

    .venv/bin/python bench/assistant_models.py            # 3,000 messages
    .venv/bin/python bench/assistant_models.py --quick    # 300 messages, no training
"""

from __future__ import annotations

import argparse
import pickle
import random
import statistics
import time

from lenddesk.assistant import classifier, engine

MESSAGES = (
    "怎么还款",
    "hk入口在哪",
    "花呗逾期一天会上征信吗",
    "這個月還唔到 可唔可以遲幾日",
    "我已经还了怎么还在催？？？你们搞什么",
    "有人打电话自称你们客服 让我开屏幕共享 说要把钱转到安全账户 我已经转了两万 现在联系不上了 怎么办",
    "你们是高利贷吗 利息这么高",
    "can i repay early",
    "商家怎么开通花呗收款",
    "转人工",
    "？",
    "我上个月刚换了工作工资推迟发了，这个月实在拿不出钱，能不能缓几天，下周五发工资就还，不会影响征信吧" * 2,
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if not args.quick:
        started = time.perf_counter()
        trained = classifier.train()
        seconds = time.perf_counter() - started
        print(
            f"training (intent, emotion, scam): {seconds:.1f} s; "
            f"file {len(pickle.dumps(trained)) / 1e6:.1f} MB"
        )
        classifier.use(trained)
    engine.understand_text("预热")
    rng = random.Random(7)
    count = 300 if args.quick else 3000
    values = []
    for i in range(count):
        text = rng.choice(MESSAGES) + str(i)  # a new text each time: no cache helps
        started = time.perf_counter()
        engine.understand_text(text)
        values.append((time.perf_counter() - started) * 1000)
    print(
        f"understanding per message: p50 {statistics.median(values):.2f} ms, "
        f"p99 {percentile(values, 0.99):.2f} ms, max {max(values):.2f} ms over {count} messages"
    )


if __name__ == "__main__":
    main()
