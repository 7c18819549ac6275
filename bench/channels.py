"""Channels benchmark: outbox delivery to a local stand-in SMS provider, and the WeChat callback.

    .venv/bin/python bench/channels.py [--messages 5000] [--callbacks 500]

Prints (1) the stand-in provider's own ceiling — the same client sending straight to it, no
database — and the worker's rate with one worker on SQLite (claim, send, settle) as a share of it;
(2) the WeChat callback round trip (signature check, XML, intake, answer) p50/p99 through the app.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("LENDDESK_SECRET_KEY", "bench-secret-key-long-enough-for-hs256-tokens")
os.environ.setdefault("LENDDESK_OTP_KEY", "bench-otp-key-different-from-the-secret")
os.environ.setdefault("LENDDESK_CHANNELS_KEY", "bench-channels-key-different-again")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from tests.support.servers import free_port

from lenddesk.app import create_app
from lenddesk.channels import adapters, signing, standins, worker
from lenddesk.channels.sms import AliyunSms
from lenddesk.core import audit
from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.core.policy import ChannelsPolicy
from lenddesk.desk.models import OutboxMessage, Team

SECRET = "bench-aliyun-secret"


def provider_ceiling(url: str, count: int) -> float:
    client = AliyunSms(
        access_key_id="k", access_key_secret=SECRET, sign_name="s", template_code="t", endpoint=url
    )
    started = time.perf_counter()
    for n in range(count):
        assert client.send("13900000000", "x", idempotency_key=f"ceiling-{n}").accepted
    return count / (time.perf_counter() - started)


def outbox_rate(url: str, directory: Path, count: int) -> float:
    db = f"sqlite:///{directory / 'bench.db'}"
    upgrade_database(db)
    engine = make_engine(db)
    factory = session_factory(engine)
    from lenddesk.channels import service

    with factory() as session:
        service.save_settings(
            session,
            channel="sms",
            values={
                "access_key_id": "k",
                "access_key_secret": SECRET,
                "sign_name": "s",
                "template_code": "t",
                "endpoint": url,
                "webhook_secret": "w",
            },
            actor=audit.Actor.system("bench"),
            now=datetime.now(UTC),
        )
        session.add_all(
            OutboxMessage(
                channel="sms",
                recipient="13900000000",
                kind="notice",
                body=f"通知 {n}",
                created_at=datetime.now(UTC),
            )
            for n in range(count)
        )
        session.commit()
        built = adapters.build_adapters(session, log_dir=directory)
    started = time.perf_counter()
    total = worker.run(factory, lambda: built, policy=ChannelsPolicy(outbox_batch=200), loop=False)
    elapsed = time.perf_counter() - started
    assert total["sent"] == count, total
    engine.dispose()
    return count / elapsed


def wechat_round_trips(directory: Path, count: int) -> list[float]:
    db = f"sqlite:///{directory / 'wechat.db'}"
    upgrade_database(db)
    engine = make_engine(db)
    from lenddesk.channels import service

    with session_factory(engine)() as session:
        session.add(Team(code="general", name="综合", skills=["*"], always_open=True))
        service.save_settings(
            session,
            channel="wechat",
            values={
                "app_id": "wx1",
                "app_secret": "s",
                "token": "tok123",
                "encoding_aes_key": "",
                "api_base": "http://127.0.0.1:9",
            },
            actor=audit.Actor.system("bench"),
            now=datetime.now(UTC),
        )
        session.commit()
    app = create_app(engine=engine)
    timings = []
    with TestClient(app) as client:
        for n in range(count):
            now = int(time.time())
            query = {
                "timestamp": str(now),
                "nonce": str(n),
                "signature": signing.wechat_signature("tok123", str(now), str(n)),
            }
            xml = (
                f"<xml><ToUserName>gh</ToUserName><FromUserName>oBench{n % 50}</FromUserName>"
                f"<CreateTime>{now}</CreateTime>"
                f"<MsgType>text</MsgType><Content>请问还款日</Content><MsgId>{n + 1}</MsgId></xml>"
            )
            started = time.perf_counter()
            answer = client.post("/api/v1/channels/wechat", params=query, content=xml.encode())
            timings.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--callbacks", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="1,000 messages, 200 callbacks")
    options = parser.parse_args()
    if options.quick:
        options.messages, options.callbacks = 1000, 200
    port = free_port()
    server = standins.serve(port, SECRET)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as scratch:
        ceiling = provider_ceiling(url, options.messages)
        rate = outbox_rate(url, Path(scratch), options.messages)
        timings = wechat_round_trips(Path(scratch), options.callbacks)
    server.shutdown()
    cuts = statistics.quantiles(timings, n=100)
    print(f"stand-in provider ceiling (same client, no database): {ceiling:,.0f} messages/s")
    print(
        f"outbox delivery, one worker on SQLite ({options.messages:,} messages): {rate:,.0f} messages/s"
        f" = {rate / ceiling:.0%} of the stand-in's ceiling"
    )
    print(
        f"WeChat callback round trip ({options.callbacks} messages):"
        f" p50 {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms"
    )


if __name__ == "__main__":
    main()
