"""`lenddesk calc`: the calculator in the terminal."""

from __future__ import annotations

from typer.testing import CliRunner

from lenddesk.cli import app

runner = CliRunner()
BASE = ["calc", "--principal", "10000.00", "--rate", "0.18", "--term", "3", "--start", "2026-01-31"]


def test_calc_prints_the_schedule_with_clamped_due_dates() -> None:
    result = runner.invoke(app, BASE, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for text in ("2026-02-28", "2026-03-31", "2026-04-30", "3,433.83", "等额本息", "301.49"):
        assert text in result.output


def test_calc_prints_the_early_repayment_cost() -> None:
    result = runner.invoke(
        app, [*BASE, "--repay-on", "2026-03-10", "--partial", "2000"], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    assert "6,749.29" in result.output  # settle in full: 6,716.17 principal + 33.12 interest (10 days)
    assert "2,033.12" in result.output  # partial: 2,000.00 principal + the same accrued interest


def test_calc_refuses_bad_input_with_a_message_and_a_non_zero_exit() -> None:
    for arguments, message in [
        (["--principal", "abc"], "Not a valid yuan amount"),
        (["--rate", "x"], "must be a number"),
        (["--method", "balloon"], "Unknown method"),
        (["--start", "2026-13-01"], "must be a date"),
        (["--partial", "100"], "--partial needs --repay-on"),
    ]:
        values = dict(zip(BASE[1::2], BASE[2::2], strict=True))
        extra = dict(zip(arguments[::2], arguments[1::2], strict=True))
        command = ["calc", *[item for pair in {**values, **extra}.items() for item in pair]]
        result = runner.invoke(app, command, env={"COLUMNS": "200"})
        assert result.exit_code == 2, (arguments, result.output)
        assert message in result.output, (arguments, result.output)
