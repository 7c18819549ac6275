"""The channels' write paths under simultaneous callers, shared by the SQLite and PostgreSQL tests.

Each scenario takes a migrated database URL and a running stand-in provider, releases its callers
together with a barrier (each in its own thread, session and transaction), and asserts that each
message is taken, sent or settled once.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.app import create_app
from lenddesk.channels import adapters, service, signing, worker
from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.policy import ChannelsPolicy
from lenddesk.desk.models import Message, OutboxMessage, Team, Ticket, TicketEvent
from tests.channels.conftest import NOW, SMS_SECRET, WECHAT_TOKEN, StandIn, configure, plain_mode


def _prepared(url: str, standin: StandIn) -> sessionmaker[Session]:
    factory = session_factory(make_engine(url))
    with factory() as session:
        session.add(Team(code="general", name="综合服务组", skills=["*"], always_open=True))
        session.commit()
        configure(session, standin.url)
    return factory


def _together(count: int, call: Callable[[int], Any]) -> list[Any]:
    barrier, results, lock = threading.Barrier(count), [], threading.Lock()

    def run(index: int) -> None:
        barrier.wait()
        result = call(index)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _count(factory: sessionmaker[Session], model: type[Any], *where: Any) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _app_posting(factory: sessionmaker[Session]) -> Any:
    app = create_app(engine=factory.kw["bind"])
    app.state.desk_clock = lambda: NOW
    return app


def duplicate_wechat_msgid_at_once_makes_one_message(url: str, standin: StandIn, callers: int = 6) -> None:
    """WeChat retries a message it thinks timed out; the copies (one nonce, one body) may arrive
    together."""
    factory = _prepared(url, standin)
    with factory() as session:
        plain_mode(session)
    app = _app_posting(factory)
    stamp = str(int(NOW.timestamp()))
    query = {
        "timestamp": stamp,
        "nonce": "7",
        "signature": signing.wechat_signature(WECHAT_TOKEN, stamp, "7"),
    }
    xml = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>oTwins</FromUserName>"
        f"<CreateTime>{stamp}</CreateTime><MsgType>text</MsgType>"
        "<Content>同一条消息</Content><MsgId>30001</MsgId></xml>"
    ).encode()

    def post(_index: int) -> int:
        with TestClient(app) as client:
            return client.post("/api/v1/channels/wechat", params=query, content=xml).status_code

    assert _together(callers, post) == [200] * callers
    assert _count(factory, Message) == 1 and _count(factory, Ticket) == 1
    inbound_lines = _count(factory, TicketEvent, TicketEvent.kind == "inbound")
    assert inbound_lines == 1


def concurrent_outbox_workers_deliver_each_message_once(
    url: str, standin: StandIn, workers: int = 4, messages: int = 300
) -> None:
    factory = _prepared(url, standin)
    with factory() as session:
        session.add_all(
            OutboxMessage(
                channel="sms", recipient=f"139{n:08d}", kind="notice", body=f"通知 {n}", created_at=NOW
            )
            for n in range(messages)
        )
        session.commit()
        built = adapters.build_adapters(session, log_dir=Path("/nonexistent"))
    policy = ChannelsPolicy(outbox_batch=20)

    def run(_index: int) -> Counter[str]:
        return worker.run(factory, lambda: built, policy=policy, loop=False, clock=lambda: NOW)

    totals = sum(_together(workers, run), Counter())
    assert totals == {"sent": messages}
    with factory() as session:
        statuses = dict(
            session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
        )
        attempts = set(session.scalars(select(OutboxMessage.attempts)))
    assert statuses == {"sent": messages} and attempts == {1}
    stats = standin.state.stats()
    assert stats["requests"] == messages and stats["delivered"] == messages and stats["repeated_keys"] == 0


def duplicate_sms_receipts_at_once_change_the_status_once(
    url: str, standin: StandIn, callers: int = 6
) -> None:
    """The provider pushes the same report twice, or a delivered and a failed one for the same message."""
    factory = _prepared(url, standin)
    with factory() as session:
        ticket = service.take_in(
            session,
            channel="sms",
            message_id="sms-up:1",
            sender="13900001111",
            text="请问还款日",
            received_at=NOW,
            now=NOW,
        )
        outbox = OutboxMessage(
            ticket_id=ticket.ticket_id,
            channel="sms",
            recipient="13900001111",
            kind="reply",
            body="您好",
            created_at=NOW,
            status="sent",
            provider_message_id="900000000001^0",
        )
        session.add(outbox)
        session.commit()
        outbox_id = outbox.id
    app = _app_posting(factory)

    def post(index: int) -> int:
        receipt = {
            "phone_number": "13900001111",
            "success": index % 3 != 2,  # mostly "delivered", some "failed": one of them wins
            "biz_id": "900000000001^0",
            "out_id": f"lenddesk-{outbox_id}",
            "err_code": "DELIVERED" if index % 3 != 2 else "MK:0001",
            "err_msg": "用户接收成功" if index % 3 != 2 else "空号",
            "report_time": "2026-11-24 10:00:05",
        }
        body = json.dumps([receipt]).encode()
        stamp = str(int(NOW.timestamp()))
        headers = {
            signing.TIMESTAMP_HEADER: stamp,
            signing.SIGNATURE_HEADER: signing.sign_body(SMS_SECRET, stamp, body),
            "Content-Type": "application/json",
        }
        with TestClient(app) as client:
            return client.post("/api/v1/channels/sms/receipts", content=body, headers=headers).status_code

    assert _together(callers, post) == [200] * callers
    with factory() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None and row.status in ("delivered", "failed")
        lines = session.scalars(
            select(TicketEvent.body).where(
                TicketEvent.kind == "delivery", TicketEvent.ticket_id == row.ticket_id
            )
        ).all()
    assert len(lines) == 1  # one status change on the timeline, whichever receipt came first
