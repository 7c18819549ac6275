import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from lenddesk.cli import app
from lenddesk.core.models import User


def test_help_lists_every_command_with_a_line_of_help() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for command in ("serve", "demo", "db", "users"):
        line = next(line for line in result.output.splitlines() if f" {command} " in line)
        assert len(line.split(command, 1)[1].strip(" │")) > 5, f"{command} has no help line"


def run_cli(
    tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LENDDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-m", "lenddesk.cli", *args], cwd=tmp_path, env=env, capture_output=True, text=True
    )


def test_demo_without_serving_is_idempotent(tmp_path: Path) -> None:
    counts = []
    for _ in range(2):
        result = run_cli(
            tmp_path,
            "demo",
            "--no-serve",
            "--borrowers",
            "30",
            extra_env={"LENDDESK_DEMO_PASSWORD": "pw-12345678"},
        )
        assert result.returncode == 0, result.stderr
        engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
        with engine.connect() as connection:
            usernames = set(connection.execute(select(User.username)).scalars())
            counts.append(connection.execute(select(func.count()).select_from(User)).scalar())
        engine.dispose()
        assert {"agent", "collector", "team_lead", "qa", "compliance", "admin"} <= usernames
    assert "pw-12345678" in result.stdout
    assert "active loans" in result.stdout  # the seeded book is summarised
    assert counts[0] == counts[1], "a second demo run must not add users"


def test_users_create_rejects_an_unknown_role_with_a_non_zero_exit(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    result = run_cli(tmp_path, "users", "create", "bob", "--role", "boss", "--password", "long-enough-1")
    assert result.returncode != 0
    assert "Unknown role" in result.stdout


def test_bad_policy_file_stops_the_server_with_the_key_named(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[auth]\nlockout_minutez = 3\n")
    result = run_cli(tmp_path, "serve", "--port", "1", extra_env={"LENDDESK_POLICY_FILE": str(policy)})
    assert result.returncode != 0
    assert "auth.lockout_minutez" in result.stdout


def test_users_unlock_and_reset_password_lift_a_lockout(tmp_path: Path) -> None:
    """A locked-out agent is let back in from the command line: unlock clears the lock, reset sets a
    new password and signs out every session (token version bumped); an unknown user exits non-zero."""
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    created = run_cli(tmp_path, "users", "create", "li", "--role", "agent", "--password", "first-pass-123")
    assert created.returncode == 0, created.stdout + created.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.begin() as connection:
        connection.execute(
            User.__table__.update().values(failed_attempts=9, locked_until=func.datetime("now", "+1 hour"))
        )
    unlocked = run_cli(tmp_path, "users", "unlock", "li")
    assert unlocked.returncode == 0, unlocked.stdout + unlocked.stderr
    with engine.connect() as connection:
        row = connection.execute(select(User.failed_attempts, User.locked_until, User.token_version)).one()
    assert row.failed_attempts == 0 and row.locked_until is None
    reset = run_cli(tmp_path, "users", "reset-password", "li", "--password", "second-pass-456")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    with engine.connect() as connection:
        assert connection.scalar(select(User.token_version)) == row.token_version + 1
    weak = run_cli(tmp_path, "users", "reset-password", "li", "--password", "short")
    assert weak.returncode != 0 and "error" in weak.stdout
    unknown = run_cli(tmp_path, "users", "unlock", "nobody")
    assert unknown.returncode == 2 and "no such user" in unknown.stdout
    engine.dispose()
