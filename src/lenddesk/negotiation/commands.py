"""CLI commands of the negotiation room: `lenddesk agreements verify`."""

from __future__ import annotations

import typer
from rich.console import Console

agreements_app = typer.Typer(help="Negotiated agreements (协议).", no_args_is_help=True)
console = Console()


@agreements_app.command("verify")
def verify() -> None:
    """Check the agreements' SHA-256 hash chain; exit 1 and name the first tampered record if it breaks."""
    from lenddesk.core import audit
    from lenddesk.core.db import unit_of_work
    from lenddesk.negotiation import service

    with unit_of_work() as session:
        check = service.verify_agreements(session)
        audit.record(
            session,
            audit.Actor.system("cli"),
            "negotiation.agreements.verify",
            ("negotiation_chain", 1),
            None,
            {"ok": check.ok, "checked": check.checked, "first_tampered": check.first_tampered},
        )
    if check.ok:
        console.print(f"协议哈希链完整 / chain intact: {check.checked} agreements checked")
        return
    console.print(
        f"[red]协议哈希链被篡改 / chain broken[/red] at {check.first_tampered} ({check.reason});"
        f" {check.checked} checked"
    )
    raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
    app.add_typer(agreements_app, name="agreements")
