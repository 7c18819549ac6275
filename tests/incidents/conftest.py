"""Incidents fixtures: a book of two products (an overdue borrower of each, and a current one of
the first), the close of business run so the day's reminders are scheduled, and a pinned clock
inside the contact window after the plan's send time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import session_factory
from lenddesk.core.models import User
from lenddesk.ledger.cob import run_cob
from tests.ledger.book import add_loan, add_product

DISBURSED = date(2026, 9, 15)  # the first instalment, due 2026-10-15, is overdue by the close
CLOSED = date(2026, 11, 30)
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai, after the 09:30 send

POLITE = "您好，您的借款已逾期，请尽快通过银行转账或支付宝还款。如有困难请联系我们。"
OUTAGE_NOTICE = "支付通道故障，部分还款暂时无法到账，我们正在抢修，期间不会产生罚息。"
LEAK_NOTICE = (
    "【示例消费金融】我们发现12月1日一台外包服务器被非法访问（事件经过）。可能泄露的信息：姓名、手机号、借款金额，"
    "不含身份证号与银行卡号。我们已关闭该服务器、更换全部密钥并报告监管部门。建议您留意陌生来电与短信，"
    "请勿点击不明链接。我们不会索要您的验证码或密码，谨防诈骗。如有疑问请拨打客服热线 400-800-1234。"
)


@dataclass
class Book:
    product_a: str
    product_b: str
    borrower_a: int  # overdue, product A
    borrower_b: int  # overdue, product B
    current_a: int  # not yet due, product A


def make_book(engine: Engine) -> Book:
    with session_factory(engine)() as session:
        first, second = add_product(session), add_product(session)
        loan_a = add_loan(session, first, disbursed_on=DISBURSED)
        loan_b = add_loan(session, second, disbursed_on=DISBURSED)
        current = add_loan(session, first, disbursed_on=date(2026, 11, 4))
        session.commit()
        book = Book(first.code, second.code, loan_a.borrower_id, loan_b.borrower_id, current.borrower_id)
    run_cob(engine, CLOSED)
    return book


@pytest.fixture
def book(engine: Engine) -> Book:
    return make_book(engine)


@pytest.fixture
def pinned_app(app: FastAPI) -> FastAPI:
    app.state.desk_clock = lambda: NOW
    app.state.collections_clock = lambda: NOW
    return app


def actor_of(session: Session, username: str) -> audit.Actor:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return audit.Actor.of(user)


def declare(
    engine: Engine, products: list[str] | None = None, pause: bool = True, kind: str = "outage"
) -> int:
    from lenddesk.incidents import service

    with session_factory(engine)() as session:
        incident = service.declare(
            session,
            actor=actor_of(session, "team_lead"),
            kind=kind,
            title="支付通道故障",
            public_notice=OUTAGE_NOTICE,
            pause_outbound=pause,
            products=products,
            now=NOW,
        )
        session.commit()
        return incident.id
