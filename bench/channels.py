"""Channels benchmark: outbox delivery to a local stand-in SMS provider, and the WeChat callback.

    .venv/bin/python bench/channels.py [--messages 20000] [--callbacks 500] [--seconds 10] [--quick]

1. Outbox delivery. The stand-in (lenddesk.channels.standins) runs as its own process. Printed:
   its own ceiling, measured with wrk (a C client, so the client costs the stand-in nothing);
   the ceiling of LendDesk's SMS client at the worker's concurrency with no database; and one
   delivery worker on SQLite (`worker.run`: claim, send concurrently, settle with a timeline line
   per message) as messages/s and as a share of both ceilings.
2. WeChat callback (signature check, XML, intake, answer): p50/p99 in process (sequential, through
   the ASGI app) and over HTTP (uvicorn, one worker, driven by wrk), beside a bare FastAPI endpoint
   (bench/bare_app.py) under the same load in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

os.environ.setdefault("LENDDESK_SECRET_KEY", "bench-secret-key-long-enough-for-hs256-tokens")
os.environ.setdefault("LENDDESK_OTP_KEY", "bench-otp-key-different-from-the-secret")
os.environ.setdefault("LENDDESK_CHANNELS_KEY", "bench-channels-key-different-again")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fastapi.testclient import TestClient

from httpload import LoadResult, free_port, run_wrk, serve, stop, wait_for_port
from lenddesk.app import create_app
from lenddesk.channels import adapters, service, signing, sms, worker
from lenddesk.core import audit
from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.core.policy import ChannelsPolicy
from lenddesk.core.settings import get_settings
from lenddesk.desk.models import OutboxMessage, Team

SECRET = "bench-aliyun-secret"
# Service hours always open: the figures are for the path every message takes, not the
# out-of-hours notice that depends on the time of day the benchmark runs.
POLICY = "[channels.hours.wechat]\nalways_open = true\n[channels.hours.sms]\nalways_open = true\n"
POLICY_FILE = Path(tempfile.gettempdir()) / f"lenddesk-bench-channels-{os.getpid()}.toml"
WECHAT_TOKEN = "tok123"
TICKETS = 500  # the messages are replies spread over this many tickets
CONNECTIONS = 16  # the worker's default outbox_concurrency

# --- outbox delivery ------------------------------------------------------------------------------


def start_standin(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "lenddesk.channels.standins", "--port", str(port), "--secret", SECRET]
    process = subprocess.Popen(command)
    wait_for_port(port, process)
    return process


def standin_ceiling(url: str, seconds: int) -> LoadResult:
    """The stand-in's own rate: wrk sends a signed SendSms (one OutId, answered idempotently)."""
    parameters = sms.AliyunSms(
        access_key_id="k", access_key_secret=SECRET, sign_name="s", template_code="t", endpoint=url
    ).signed_parameters("13900000000", "通知", idempotency_key="lenddesk-ceiling", code=None)
    script = (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f"wrk.body = {json.dumps(urlencode(parameters))}\n"
    )
    return run_wrk(url + "/", script, connections=CONNECTIONS, seconds=seconds)


def client_ceiling(url: str, count: int, concurrency: int) -> float:
    """LendDesk's SMS client at the worker's concurrency, straight to the stand-in (no database)."""
    client = sms.AliyunSms(
        access_key_id="k", access_key_secret=SECRET, sign_name="s", template_code="t", endpoint=url
    )

    def send(n: int) -> bool:
        return client.send("13900000000", f"通知 {n}", idempotency_key=f"client-{n}").accepted

    with ThreadPoolExecutor(concurrency) as pool:
        started = time.perf_counter()
        accepted = sum(pool.map(send, range(count)))
        elapsed = time.perf_counter() - started
    assert accepted == count
    return count / elapsed


def prepare_outbox(url: str, endpoint: str, count: int) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    with session_factory(engine)() as session:
        session.add(Team(code="general", name="综合", skills=["*"], always_open=True))
        values = {
            "access_key_id": "k",
            "access_key_secret": SECRET,
            "sign_name": "s",
            "template_code": "t",
            "endpoint": endpoint,
            "webhook_secret": "w",
        }
        service.save_settings(
            session, channel="sms", values=values, actor=audit.Actor.system("bench"), now=now
        )
        tickets = [
            service.take_in(
                session,
                channel="sms",
                message_id=f"bench-up-{n}",
                sender=f"139{n:08d}",
                text="请问还款日是哪天",
                received_at=now,
                now=now,
            ).ticket_id
            for n in range(TICKETS)
        ]
        session.add_all(
            OutboxMessage(
                ticket_id=tickets[n % TICKETS],
                channel="sms",
                recipient=f"139{n % TICKETS:08d}",
                kind="reply",
                body=f"您好，您的问题已收到（{n}）",
                created_at=now,
            )
            for n in range(count)
        )
        session.commit()
    engine.dispose()


def outbox_rate(url: str, directory: Path, count: int, policy: ChannelsPolicy) -> tuple[float, Counter[str]]:
    engine = make_engine(url)
    factory = session_factory(engine)
    with factory() as session:
        built = adapters.build_adapters(session, log_dir=directory)
    started = time.perf_counter()
    total = worker.run(factory, lambda: built, policy=policy, loop=False)
    elapsed = time.perf_counter() - started
    engine.dispose()
    assert total == {"sent": count}, total
    return count / elapsed, total


# --- WeChat callback ------------------------------------------------------------------------------


def prepare_wechat(url: str) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        session.add(Team(code="general", name="综合", skills=["*"], always_open=True))
        values = {
            "app_id": "wx1",
            "app_secret": "s",
            "token": WECHAT_TOKEN,
            "encoding_aes_key": "",
            "api_base": "http://127.0.0.1:9",
        }
        service.save_settings(
            session, channel="wechat", values=values, actor=audit.Actor.system("bench"), now=datetime.now(UTC)
        )
        session.commit()
    engine.dispose()


def wechat_xml(openid: str, msg_id: int, created: int) -> str:
    return (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType>text</MsgType>"
        f"<Content>请问还款日是哪天</Content><MsgId>{msg_id}</MsgId></xml>"
    )


def wechat_query(now: int, nonce: str) -> dict[str, str]:
    return {
        "timestamp": str(now),
        "nonce": nonce,
        "signature": signing.wechat_signature(WECHAT_TOKEN, str(now), nonce),
    }


def wechat_in_process(url: str, count: int) -> list[float]:
    engine = make_engine(url)
    timings = []
    with TestClient(create_app(engine=engine)) as client:
        for n in range(count):
            now = int(time.time())
            xml = wechat_xml(f"oInProcess{n % 50}", 10**9 + n, now)
            started = time.perf_counter()
            answer = client.post("/api/v1/channels/wechat", params=wechat_query(now, str(n)), content=xml)
            timings.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text
    engine.dispose()
    return timings


WECHAT_SCRIPT = """
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml"
request = function()
  counter = counter + 1
  local body = string.format(
    "<xml><ToUserName>gh</ToUserName><FromUserName>oHttp%%d</FromUserName><CreateTime>%(now)d</CreateTime>"
    .. "<MsgType>text</MsgType><Content>请问还款日是哪天</Content><MsgId>%%d</MsgId></xml>",
    counter %% 50, %(base)d + counter)
  return wrk.format(nil, nil, nil, body)
end
"""
BARE_SCRIPT = """
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-LendDesk-Key"] = "k"
request = function()
  counter = counter + 1
  local body = string.format(
    '{"channel": "wechat", "channel_message_id": "%%d", "sender": "oHttp%%d", "text": "请问还款日是哪天"}',
    counter, counter %% 50)
  return wrk.format(nil, nil, nil, body)
end
"""


def wechat_over_http(
    url: str, directory: Path, seconds: int, connections: int
) -> tuple[LoadResult, LoadResult]:
    env = {"LENDDESK_DATABASE_URL": url, "LENDDESK_POLICY_FILE": str(POLICY_FILE)}
    bench_dir = Path(__file__).resolve().parent
    results = []
    for app, cwd in (("bare_app:app", bench_dir), ("lenddesk.asgi:app", directory)):
        port = free_port()
        process = serve(app, port=port, workers=1, env=env, cwd=cwd)
        try:
            if app == "bare_app:app":
                target, script = f"http://127.0.0.1:{port}/api/v1/desk/inbound", BARE_SCRIPT % {}
            else:
                now = int(time.time())
                query = urlencode(wechat_query(now, "4242"))
                target = f"http://127.0.0.1:{port}/api/v1/channels/wechat?{query}"
                script = WECHAT_SCRIPT % {"now": now, "base": 2 * 10**9}
            run_wrk(target, script, connections=connections, seconds=2)  # warm-up, discarded
            if app != "bare_app:app":
                script = WECHAT_SCRIPT % {"now": int(time.time()), "base": 3 * 10**9}
            results.append(run_wrk(target, script, connections=connections, seconds=seconds))
        finally:
            stop(process)
    bare, real = results
    assert real.non_2xx == 0 and real.errors == 0, real
    return bare, real


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--callbacks", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument("--quick", action="store_true", help="3,000 messages, 200 callbacks, 4 s runs")
    options = parser.parse_args()
    if options.quick:
        options.messages, options.callbacks, options.seconds = 3000, 200, 4
    POLICY_FILE.write_text(POLICY)
    os.environ["LENDDESK_POLICY_FILE"] = str(POLICY_FILE)
    get_settings.cache_clear()
    policy = ChannelsPolicy(outbox_batch=200)
    port = free_port()
    standin = start_standin(port)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            outbox_db = f"sqlite:///{directory / 'outbox.db'}"
            prepare_outbox(outbox_db, endpoint, options.messages)
            ceiling = standin_ceiling(endpoint, options.seconds)
            client = client_ceiling(endpoint, options.messages, policy.outbox_concurrency)
            rate, _ = outbox_rate(outbox_db, directory, options.messages, policy)
            wechat_db = f"sqlite:///{directory / 'wechat.db'}"
            prepare_wechat(wechat_db)
            timings = wechat_in_process(wechat_db, options.callbacks)
            bare, real = wechat_over_http(wechat_db, directory, options.seconds, connections=4)
    finally:
        stop(standin)
        POLICY_FILE.unlink(missing_ok=True)
    cuts = statistics.quantiles(timings, n=100)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores, other processes on the machine)")
    print(
        f"stand-in ceiling (wrk, {CONNECTIONS} connections): {ceiling.rate:,.0f} requests/s,"
        f" p99 {ceiling.p99_ms:.1f} ms"
    )
    print(
        f"SMS client ceiling (no database, {policy.outbox_concurrency} in flight):"
        f" {client:,.0f} messages/s = {client / ceiling.rate:.0%} of the stand-in's ceiling"
    )
    print(
        f"outbox delivery, one worker on SQLite ({options.messages:,} replies on {TICKETS} tickets,"
        f" batch {policy.outbox_batch}, {policy.outbox_concurrency} in flight): {rate:,.0f} messages/s"
        f" = {rate / ceiling.rate:.0%} of the stand-in's ceiling, {rate / client:.0%} of the client's"
    )
    print(
        f"WeChat callback in process ({options.callbacks} sequential): p50 {cuts[49]:.1f} ms,"
        f" p99 {cuts[98]:.1f} ms"
    )
    print(
        f"WeChat callback over HTTP (uvicorn, 1 worker, wrk 4 connections, {options.seconds} s):"
        f" {real.rate:,.0f} req/s, p50 {real.p50_ms:.1f} ms, p99 {real.p99_ms:.1f} ms"
    )
    print(
        f"bare FastAPI endpoint, same load: {bare.rate:,.0f} req/s, p50 {bare.p50_ms:.1f} ms,"
        f" p99 {bare.p99_ms:.1f} ms; WeChat p99 / bare p99 = {real.p99_ms / bare.p99_ms:.1f}"
    )


if __name__ == "__main__":
    main()
