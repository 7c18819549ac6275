"""CLI of the channels room: `lenddesk channels email-poll` (IMAP); delivery is `lenddesk desk deliver`."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console

channels_app = typer.Typer(help="Channel adapters (e-mail polling).", no_args_is_help=True)
console = Console()


def run_delivery(*, log_dir: Path | None, loop: bool) -> Counter[str]:
    from lenddesk.channels import adapters, worker
    from lenddesk.core.db import session_factory
    from lenddesk.core.policy import get_policy
    from lenddesk.core.settings import get_settings

    factory = session_factory()
    directory = log_dir or get_settings().delivery_log_dir

    def adapters_for() -> dict[str, adapters.Adapter]:
        with factory() as session:
            return adapters.build_adapters(session, log_dir=directory)

    stop = threading.Event()
    if loop:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        return worker.run(factory, adapters_for, policy=get_policy().channels, loop=loop, stop=stop)
    except KeyboardInterrupt:
        return Counter()


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


def register(app: typer.Typer) -> None:
    app.add_typer(channels_app, name="channels")
