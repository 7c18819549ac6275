"""CLI of the channels room: `lenddesk channels email-poll` (IMAP) and the outbox's delivery.

Delivery is `lenddesk desk deliver` (the name operators know, added to the desk's command group
here) and `lenddesk channels deliver`: both run the channels room's worker.
"""

from __future__ import annotations

import signal
import threading
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console

from lenddesk.desk.commands import desk_app

channels_app = typer.Typer(help="Channel adapters (e-mail polling, outbox delivery).", no_args_is_help=True)
console = Console()


def run_delivery(*, log_dir: Path | None, loop: bool) -> Counter[str]:
    from lenddesk.channels import worker
    from lenddesk.core.db import session_factory
    from lenddesk.core.policy import get_policy
    from lenddesk.core.settings import get_settings

    stop = threading.Event()
    if loop:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        return worker.deliver(
            session_factory(),
            log_dir=log_dir or get_settings().delivery_log_dir,
            policy=get_policy().channels,
            loop=loop,
            stop=stop,
        )
    except KeyboardInterrupt:
        return Counter()


def deliver(
    log_dir: Path | None = typer.Option(None, help="Delivery log directory (default from settings)"),
    loop: bool = typer.Option(False, "--loop", help="Keep delivering until stopped (Ctrl-C or SIGTERM)"),
) -> None:
    """Deliver queued outbox messages through the channels (SMTP, WeChat, SMS; delivery log otherwise).

    Safe to run as several processes at once; see docs/CHANNELS.md "Outbox".
    """
    outcome = run_delivery(log_dir=log_dir, loop=loop)
    failed = outcome["failed"] + outcome["dead"] + outcome["retry"]
    console.print(
        f"delivered: {outcome['delivered'] + outcome['sent']}  failed: {failed}"
        f"  (retry later: {outcome['retry']}, dead letters: {outcome['dead']})"
    )


@channels_app.command("email-poll")
def email_poll(
    once: bool = typer.Option(False, "--once", help="Fetch what is waiting, then stop"),
) -> None:
    """Fetch new mail by IMAP (IDLE where the server offers it) and hand it to the desk's intake."""
    from lenddesk.channels.inbox import poll_mailbox
    from lenddesk.core.db import session_factory
    from lenddesk.core.policy import get_policy

    taken = poll_mailbox(session_factory(), policy=get_policy().channels, once=once)
    console.print(f"mail taken in: {taken}")


channels_app.command("deliver")(deliver)
desk_app.command("deliver")(deliver)


def register(app: typer.Typer) -> None:
    app.add_typer(channels_app, name="channels")
