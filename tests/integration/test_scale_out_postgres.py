"""Scale-out, proven here: two API processes, two delivery workers and the close of business at once
on one PostgreSQL and one Redis, under traffic sent to both API processes.

What a lender relies on when the desk runs as several processes: every accepted intake made
exactly one ticket, every repayment reference is stored once and no fen is lost or made up, every
queued message left exactly once through the (local, real) SMTP server, and the close finished with
every loan aged as its schedule says. Only the outside world is stood in for: the SMTP relay
(aiosmtpd) is the borrowers' mail provider.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lenddesk.assistant import classifier
from lenddesk.assistant.engine import assistant_settings
from lenddesk.assistant.models import ChatMessage, ChatSession
from lenddesk.channels import service as channels
from lenddesk.core import audit
from lenddesk.core.db import make_engine, session_factory, upgrade_database, utcnow
from lenddesk.desk.models import Message, OutboxMessage, Team, Ticket
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import CobRun, Loan, Repayment
from tests.ledger import concurrency
from tests.ledger.concurrency import TODAY
from tests.ledger.standing import assert_history_agrees, assert_standing_agrees
from tests.support.servers import RedisServer, SmtpServer, free_port, start_smtp

LOANS = 300
CHUNK_SIZE = 25  # a small book in many chunks, each locking its range in turn while postings arrive
CONTACTS = 30  # public contact forms, each from its own address (a ticket and an e-mailed notice each)
CHANNEL_MESSAGES = 16  # channel intake, each message delivered to both API processes at once
REPAYMENTS = 90
REPEATED_REPAYMENTS = 30  # of which posted to both API processes at once (the same reference)
CHATS = 10
HANDOFFS = 4  # of which ask both API processes for a person at once
CLIENT_THREADS = 8
CHANNEL_KEY = "scale-out-channel-key"
FROM_ADDRESS = "kefu@lenddesk.example"
TICKET_NUMBER = re.compile(r"T\d{8}-\d{6}")
MESSAGE_ID = re.compile(r"<lenddesk\.(\d+)\.")
QUESTIONS = ("怎么还款", "罚息怎么算", "还款日是几号")

# The web form is closed around the clock, so every new web-form ticket is answered by the
# out-of-hours notice: the outbox's work. The chat's limits are the benchmark's (one address here).
POLICY = """
[assistant]
session_messages_per_window = 100000
address_messages_per_window = 1000000

[channels]
contact_form_per_hour = 1000

[channels.hours.web_form]
opens = "00:00"
closes = "00:00"
every_day = true
"""


# --- the book, the processes ----------------------------------------------------------------------


def configure_mail(engine: Engine, smtp: SmtpServer) -> None:
    """The e-mail channel on the local SMTP server, before any worker builds its adapters."""
    values = {
        "from_address": FROM_ADDRESS,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_security": smtp.security,
        "smtp_username": smtp.username,
        "smtp_password": smtp.password,
        "tls_ca_file": str(smtp.ca_file),
    }
    with session_factory(engine)() as session:
        channels.save_settings(
            session, channel="email", values=values, actor=audit.Actor.system("tests"), now=utcnow()
        )
        session.commit()


def prepare_book(engine: Engine) -> list[tuple[int, str]]:
    """Users, a team for the chat's handoffs, and LOANS loans closed to yesterday."""
    concurrency.create_users(engine)
    loans = concurrency.create_loans(engine, LOANS)
    with session_factory(engine)() as session:
        session.add(Team(code="general", name="综合服务组", skills=["*"], always_open=True))
        session.commit()
    # As production would have: yesterday closed, so today's close and postings start from a book
    # that is overdue in M1/M2 with its penalties charged.
    run_cob(engine, TODAY - timedelta(days=1), chunk_size=CHUNK_SIZE)
    return loans


@dataclass
class Desk:
    """The processes of one desk on one database: API processes, delivery workers, the close."""

    directory: Path
    env: dict[str, str]
    apis: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, command: list[str], name: str) -> subprocess.Popen[bytes]:
        log = (self.directory / f"{name}.log").open("wb")
        process = subprocess.Popen(command, env=self.env, cwd=self.directory, stdout=log, stderr=log)
        self.processes.append(process)
        return process

    def start_api(self) -> None:
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "lenddesk.asgi:app", "--host", "127.0.0.1"]
        self.start([*command, "--port", str(port), "--log-level", "warning"], f"api-{port}")
        self.apis.append(f"http://127.0.0.1:{port}")

    def start_worker(self) -> None:
        command = [sys.executable, "-m", "lenddesk.cli", "channels", "deliver", "--loop"]
        self.workers.append(self.start(command, f"worker-{len(self.workers) + 1}"))

    def start_close(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "lenddesk.cli", "cob", "--date", TODAY.isoformat()]
        return self.start([*command, "--chunk-size", str(CHUNK_SIZE)], "cob")

    def wait_until_serving(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout  # a loaded machine: each process imports the whole app
        for base_url in self.apis:
            while True:
                assert all(p.poll() is None for p in self.processes), self.logs()
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=2).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{base_url} did not start: {self.logs()}"
                time.sleep(0.2)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.directory.glob("*.log"))
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = start_smtp("starttls")
    yield server
    server.stop()


@pytest.fixture
def model_dir() -> Path:
    """The assistant's trained model where the API processes read it (trained here when missing)."""
    directory = assistant_settings().model_dir.resolve()
    classifier.current(directory)
    return directory


@pytest.fixture
def desk(pg_url: str, redis_server: RedisServer, model_dir: Path, tmp_path: Path) -> Iterator[Desk]:
    (tmp_path / "policy.toml").write_text(POLICY)
    env = {
        **os.environ,
        "LENDDESK_DATABASE_URL": pg_url,
        "LENDDESK_REDIS_URL": redis_server.url,
        "LENDDESK_POLICY_FILE": str(tmp_path / "policy.toml"),
        "LENDDESK_ASSISTANT_MODEL_DIR": str(model_dir),
        "LENDDESK_CHANNEL_KEYS": json.dumps({"api": CHANNEL_KEY}),
        "LENDDESK_DELIVERY_LOG_DIR": str(tmp_path / "delivery"),
    }
    processes = Desk(tmp_path, env)
    try:
        yield processes
    finally:
        processes.stop()


# --- the traffic ----------------------------------------------------------------------------------


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """The calls released together, each from its own thread (the same request to both processes)."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            answers[index] = calls[index]()
        except httpx.HTTPError as exc:  # the test reports it with the other answers
            answers[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def status_of(answer: Any) -> Any:
    return answer.status_code if isinstance(answer, httpx.Response) else repr(answer)


@dataclass
class Traffic:
    """What the clients sent and what the API processes answered."""

    apis: list[str]
    bearer: dict[str, str]
    contracts: list[str]
    contacts: dict[str, Any] = field(default_factory=dict)  # e-mail → answer
    intakes: dict[str, list[Any]] = field(default_factory=dict)  # channel message id → answers
    repayments: dict[str, list[Any]] = field(default_factory=dict)  # reference → answers
    amounts_fen: dict[str, int] = field(default_factory=dict)  # reference → amount sent
    chats: dict[str, list[Any]] = field(default_factory=dict)  # chat token → answers
    lock: threading.Lock = field(default_factory=threading.Lock)

    def api(self, index: int) -> str:
        return self.apis[index % len(self.apis)]

    def contact(self, index: int) -> None:
        email = f"borrower{index}@example.com"
        form = {"phone": "", "email": email, "name": "", "message": "我想改一下还款日", "website": ""}
        answer = httpx.post(f"{self.api(index)}/contact", data=form, timeout=60)
        with self.lock:
            self.contacts[email] = answer

    def channel_message(self, index: int) -> None:
        message_id = f"partner-msg-{index}"
        body = {
            "channel": "api",
            "channel_message_id": message_id,
            "sender": f"partner-{index}",
            "text": "查询账单",
        }
        headers = {"X-LendDesk-Key": CHANNEL_KEY}
        answers = at_once(
            *(
                lambda base_url=base_url: httpx.post(
                    f"{base_url}/api/v1/desk/inbound", json=body, headers=headers, timeout=60
                )
                for base_url in self.apis
            )
        )
        with self.lock:
            self.intakes[message_id] = answers

    def repayment(self, index: int, *, repeated: bool = False) -> None:
        reference = f"scale-{index}"
        amount_fen = 100 * (1 + index % 300)  # 1.00 … 300.00
        body = concurrency.repayment_body(
            self.contracts[index % len(self.contracts)], reference, f"{Decimal(amount_fen) / 100:.2f}"
        )

        def post(base_url: str) -> httpx.Response:
            return concurrency.post_over_http(base_url, self.bearer, body)

        targets = self.apis if repeated else [self.api(index)]
        answers = at_once(*(lambda base_url=base_url: post(base_url) for base_url in targets))
        with self.lock:
            self.repayments[reference] = answers
            self.amounts_fen[reference] = amount_fen

    def chat(self, index: int, *, handoff: bool) -> None:
        token = secrets.token_urlsafe(32)
        headers = {"X-Chat-Token": token}
        answers: list[Any] = []
        for turn, text in enumerate(QUESTIONS):
            url = f"{self.api(index + turn)}/api/v1/assistant/messages"
            answers.append(httpx.post(url, json={"text": text}, headers=headers, timeout=60))
        if handoff:
            answers += at_once(
                *(
                    lambda base_url=base_url: httpx.post(
                        f"{base_url}/api/v1/assistant/messages",
                        json={"text": "转人工，我要找人工客服"},
                        headers=headers,
                        timeout=60,
                    )
                    for base_url in self.apis
                )
            )
        with self.lock:
            self.chats[token] = answers

    def workload(self) -> list[Callable[[], None]]:
        """Every request of the run, interleaved so that each kind is in flight all along."""
        jobs: list[list[Callable[[], None]]] = [
            [lambda n=n: self.contact(n) for n in range(CONTACTS)],
            [lambda n=n: self.channel_message(n) for n in range(CHANNEL_MESSAGES)],
            [
                lambda n=n: self.repayment(n, repeated=n % (REPAYMENTS // REPEATED_REPAYMENTS) == 0)
                for n in range(REPAYMENTS)
            ],
            [lambda n=n: self.chat(n, handoff=n < HANDOFFS) for n in range(CHATS)],
        ]
        longest = max(len(kind) for kind in jobs)
        return [kind[i] for i in range(longest) for kind in jobs if i < len(kind)]


def run_traffic_with_the_close(desk: Desk, traffic: Traffic) -> subprocess.Popen[bytes]:
    """The clients' workload on both processes; the close starts with it, and repayments keep
    coming until the close has finished, so every chunk of the close meets postings."""
    close = desk.start_close()
    filler_index = REPAYMENTS

    def postings_until_the_close_ends() -> None:
        nonlocal filler_index
        while close.poll() is None:
            traffic.repayment(filler_index)
            filler_index += 1

    with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        running = [pool.submit(job) for job in traffic.workload()]
        filler = threading.Thread(target=postings_until_the_close_ends)
        filler.start()
        for job in running:
            job.result()
        filler.join(timeout=120)
    close.wait(timeout=120)
    return close


def drain(engine: Engine, timeout: float = 60) -> None:
    """Wait until the workers have settled every queued message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_factory(engine)() as session:
            queued = session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "queued")
            )
        if not queued:
            return
        time.sleep(0.5)
    raise AssertionError(f"{queued} outbox messages still queued after {timeout} s")


# --- what a lender relies on ----------------------------------------------------------------------


def assert_every_contact_made_one_ticket(session: Session, traffic: Traffic) -> None:
    refused = {email: status_of(a) for email, a in traffic.contacts.items() if status_of(a) != 200}
    assert not refused, refused
    numbers = {email: TICKET_NUMBER.findall(answer.text) for email, answer in traffic.contacts.items()}
    tickets = dict(
        session.execute(select(Ticket.sender, Ticket.number).where(Ticket.channel == "web_form")).all()
    )
    assert len(tickets) == CONTACTS
    assert {email: [tickets.get(email)] for email in traffic.contacts} == numbers


def assert_every_channel_message_made_one_ticket(session: Session, traffic: Traffic) -> None:
    for message_id, answers in traffic.intakes.items():
        assert sorted(status_of(a) for a in answers) == [200, 201], (message_id, answers)
        assert len({answer.json()["ticket_number"] for answer in answers}) == 1
        assert sorted(answer.json()["outcome"] for answer in answers) == ["created", "duplicate"]
    stored = Counter(
        session.scalars(
            select(Message.channel_message_id).where(Message.channel == "api", Message.direction == "in")
        )
    )
    assert stored == Counter(dict.fromkeys(traffic.intakes, 1))
    api_tickets = session.scalar(select(func.count(Ticket.id)).where(Ticket.channel == "api"))
    assert api_tickets == CHANNEL_MESSAGES


def assert_every_chat_kept_whole(session: Session, traffic: Traffic) -> None:
    """Each session's lines numbered without a gap, every message once, one ticket per handoff."""
    for answers in traffic.chats.values():
        assert [status_of(a) for a in answers] == [200] * len(answers), answers
        public_id = answers[0].json()["session_id"]
        chat = session.scalars(select(ChatSession).where(ChatSession.public_id == public_id)).one()
        seqs = list(
            session.scalars(
                select(ChatMessage.seq).where(ChatMessage.session_id == chat.id).order_by(ChatMessage.seq)
            )
        )
        assert seqs == list(range(1, len(seqs) + 1)) and chat.last_seq == len(seqs)
        borrower_lines = session.scalar(
            select(func.count(ChatMessage.id)).where(
                ChatMessage.session_id == chat.id, ChatMessage.author == "borrower"
            )
        )
        assert borrower_lines == len(answers)
        handoffs = [answer.json() for answer in answers[len(QUESTIONS) :]]
        tickets = session.scalars(select(Ticket.number).where(Ticket.sender == f"chat:{public_id}")).all()
        if handoffs:  # asked both processes for a person at once: one ticket, named to both
            assert all(handoff["handoff"] for handoff in handoffs), handoffs
            assert len(tickets) == 1 and {handoff["ticket_number"] for handoff in handoffs} == set(tickets)
        else:
            assert tickets == []


def assert_every_repayment_stored_once(session: Session, traffic: Traffic) -> None:
    for reference, answers in traffic.repayments.items():
        statuses = sorted(status_of(a) for a in answers)
        assert statuses == ([200, 201] if len(answers) == 2 else [201]), (reference, answers)
        assert len({answer.json()["id"] for answer in answers}) == 1, (reference, answers)
    stored = dict(
        session.execute(
            select(Repayment.external_reference, func.count(Repayment.id))
            .where(Repayment.external_reference.in_(list(traffic.repayments)))
            .group_by(Repayment.external_reference)
        ).all()
    )
    assert stored == dict.fromkeys(traffic.repayments, 1)
    posted = session.scalar(
        select(func.sum(Repayment.amount_fen)).where(
            Repayment.external_reference.in_(list(traffic.repayments))
        )
    )
    assert posted == sum(traffic.amounts_fen.values())


def assert_every_message_sent_once(session: Session, smtp: SmtpServer) -> None:
    outbox = session.execute(select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.status)).all()
    assert Counter(row.status for row in outbox) == {"delivered": len(outbox)}
    notices = {row.id for row in outbox if row.channel == "web_form"}
    assert len(notices) == CONTACTS  # one out-of-hours notice per web-form ticket
    sent = Counter(outbox_id_of(message["Message-ID"]) for message in smtp.messages())
    assert sent == Counter(dict.fromkeys(notices, 1))


def outbox_id_of(message_id: str) -> int:
    """The outbox row a mail was sent for, from the Message-ID the SMTP adapter gives it."""
    found = MESSAGE_ID.match(message_id)
    assert found is not None, message_id
    return int(found.group(1))


def assert_the_close_aged_the_book(session: Session, touched: set[int], loan_ids: list[int]) -> None:
    run = session.scalars(select(CobRun).where(CobRun.business_date == TODAY)).one()
    assert run.status == "done" and run.last_loan_id >= max(loan_ids)
    for loan_id in loan_ids:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        assert_standing_agrees(session, loan, TODAY, closing=loan_id not in touched)
        assert_history_agrees(session, loan)


def test_two_api_processes_two_workers_and_the_close_at_once_lose_and_double_nothing(
    desk: Desk, pg_url: str, smtp: SmtpServer
) -> None:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    try:
        configure_mail(engine, smtp)
        for _ in range(2):
            desk.start_api()
            desk.start_worker()
        loans = prepare_book(engine)  # while the processes start
        desk.wait_until_serving()
        # Signed in on one process, posting on both; a team lead needs no ticket of the borrower's.
        bearer = concurrency.bearer(desk.apis[0], "team_lead")
        traffic = Traffic(desk.apis, bearer, [contract for _, contract in loans])

        close = run_traffic_with_the_close(desk, traffic)

        assert close.returncode == 0, desk.logs()
        drain(engine)
        for worker in desk.workers:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0, desk.logs()
        loan_ids = [loan_id for loan_id, _ in loans]
        with session_factory(engine)() as session:
            assert_every_contact_made_one_ticket(session, traffic)
            assert_every_channel_message_made_one_ticket(session, traffic)
            assert_every_chat_kept_whole(session, traffic)
            assert_every_repayment_stored_once(session, traffic)
            assert_every_message_sent_once(session, smtp)
            touched = set(session.scalars(select(Repayment.loan_id).where(Repayment.value_date == TODAY)))
            assert_the_close_aged_the_book(session, touched, loan_ids)
        concurrency.assert_conserved(engine, loan_ids)  # posted = paid on the lines + credit, per loan
    finally:
        engine.dispose()
