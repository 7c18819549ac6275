"""The `lenddesk` command: serve the desk, manage the database, seed the demo, and room commands."""

from __future__ import annotations

import importlib

import typer
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.errors import ConfigurationError, LendDeskError
from lenddesk.core.models import User
from lenddesk.core.roles import ROLES

app = typer.Typer(
    help="LendDesk 网贷售后客服与逾期管理系统 — service and collections desk.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
users_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
console = Console()

ROOM_COMMANDS = (
    "lenddesk.ledger.commands",
    "lenddesk.desk.commands",
    "lenddesk.collections.commands",
    "lenddesk.negotiation.commands",
    "lenddesk.assistant.commands",
    "lenddesk.quality.commands",
    "lenddesk.channels.commands",
    "lenddesk.risk.commands",
    "lenddesk.reports.commands",
)
DEMO_SEEDERS = (
    "lenddesk.ledger.jobs",
    "lenddesk.desk.jobs",
    "lenddesk.reports.jobs",
    "lenddesk.reports.demo",
)


def fail(message: str) -> typer.Exit:
    console.print(f"[red]错误 / error:[/red] {message}")
    return typer.Exit(code=2)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Run database migrations up to the newest version."""
    from lenddesk.core.db import upgrade_database
    from lenddesk.core.settings import get_settings

    upgrade_database()
    console.print(f"database upgraded: {get_settings().database_url}")


@users_app.command("create")
def users_create(
    username: str,
    role: str = typer.Option(..., help=f"One of: {', '.join(ROLES)}"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    display_name: str | None = typer.Option(None, help="Name shown in the console"),
) -> None:
    """Create a staff account."""
    from lenddesk.core.db import unit_of_work

    try:
        with unit_of_work() as session:
            auth.create_user(
                session,
                actor=audit.Actor.system("cli"),
                username=username,
                password=password,
                role=role,
                display_name=display_name,
            )
    except LendDeskError as exc:
        raise fail(f"{exc.message_zh} / {exc.message_en}") from exc
    console.print(f"created {username} ({role})")


def _user_id(session: Session, username: str) -> int:
    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise fail(f"没有用户 {username} / no such user: {username}")
    return user_id


@users_app.command("unlock")
def users_unlock(username: str) -> None:
    """Lift a sign-in lock and clear the failure count (audited)."""
    from lenddesk.core.db import unit_of_work

    with unit_of_work() as session:
        auth.unlock_user(session, actor=audit.Actor.system("cli"), user_id=_user_id(session, username))
    console.print(f"unlocked {username}")


@users_app.command("reset-password")
def users_reset_password(
    username: str,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Set a new password: the user's sessions and tokens are revoked and any lock lifted (audited)."""
    from lenddesk.core.db import unit_of_work

    try:
        with unit_of_work() as session:
            auth.reset_password(
                session,
                actor=audit.Actor.system("cli"),
                user_id=_user_id(session, username),
                new_password=password,
            )
    except LendDeskError as exc:
        raise fail(f"{exc.message_zh} / {exc.message_en}") from exc
    console.print(f"password reset for {username}; their sessions are signed out")


DEMO_NAMES = {
    "agent": "李客服",
    "collector": "王贷后",
    "team_lead": "张组长",
    "qa": "赵质检",
    "compliance": "钱合规",
    "admin": "系统管理员",
}


def seed_demo_users(password: str) -> list[str]:
    """One demo user per role, named after the role (idempotent)."""
    from lenddesk.core.db import unit_of_work

    created = []
    with unit_of_work() as session:
        for role in ROLES:
            if session.scalar(select(User.id).where(User.username == role)) is None:
                auth.create_user(
                    session,
                    actor=audit.Actor.system("demo"),
                    username=role,
                    password=password,
                    role=role,
                    display_name=DEMO_NAMES[role],
                )
                created.append(role)
    return created


def print_demo_book() -> None:
    from lenddesk.core.db import unit_of_work
    from lenddesk.ledger.service import portfolio_glance

    with unit_of_work() as session:
        glance = portfolio_glance(session)
    if glance.active_loans:
        buckets = ", ".join(f"{bucket} {count}" for bucket, count in glance.by_bucket.items())
        console.print(
            f"demo book: {glance.active_loans:,} active loans, {glance.overdue_loans:,} overdue"
            f" ({glance.overdue_share:.1%}: {buckets})"
        )


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    workers: int = typer.Option(1, help="Worker processes"),
) -> None:
    """Serve the console and the API."""
    import uvicorn

    try:
        from lenddesk.core.policy import get_policy

        get_policy()
    except ConfigurationError as exc:
        raise fail(str(exc)) from exc
    console.print(f"LendDesk on http://{host}:{port}  (console /, API docs /docs)")
    uvicorn.run("lenddesk.asgi:app", host=host, port=port, workers=workers, log_level="warning")


@app.command()
def demo(
    borrowers: int = typer.Option(5000, help="Demo borrowers to seed"),
    no_serve: bool = typer.Option(False, "--no-serve", help="Seed only; do not start the server"),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
) -> None:
    """Upgrade the database, seed demo data (idempotent), then serve."""
    from lenddesk.core.db import unit_of_work, upgrade_database

    upgrade_database()
    from lenddesk.core.settings import get_settings

    password = get_settings().demo_password
    seed_demo_users(password)
    for module_name in DEMO_SEEDERS:
        with unit_of_work() as session:
            importlib.import_module(module_name).seed_demo(session, borrowers=borrowers)
    print_demo_book()
    console.print("demo users (username / password):")
    for role in ROLES:
        console.print(f"  {role:<11} / {password}   {auth.ROLE_LABELS_ZH[role]}")
    if not no_serve:
        serve(host=host, port=port, workers=1)


for _module in ROOM_COMMANDS:
    importlib.import_module(_module).register(app)


if __name__ == "__main__":
    app()
