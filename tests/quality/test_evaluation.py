"""`lenddesk quality eval`: labelled transcripts scored through the QA code path, agreement with the
reviewer per item and overall, severe cases flagged and missed, beside the earlier rubric."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lenddesk.cli import app
from lenddesk.quality import evaluation, service

LEAK = "您好，您目前还欠本金8600元，已逾期12天。"
GOOD = {
    "id": "t1",
    "channel": "chat",
    "verified_at_turn": None,
    "turns": [
        {"speaker": "borrower", "text": "我这个月还多少", "minutes": 0},
        {"speaker": "agent", "text": "您好，请先提供身份证后四位。", "minutes": 1},
        {"speaker": "borrower", "text": "0417", "minutes": 2},
        {"speaker": "agent", "text": "已核实，您本期应还980元，可在App还款。感谢您的咨询。", "minutes": 3},
    ],
    "verdicts": {"GREETING": "pass", "IDENTITY_CHECK": "pass", "PRIVACY": "pass", "CLOSING": "pass"},
    "severe": False,
}
SEVERE = {
    "id": "t2",
    "channel": "email",
    "verified_at_turn": None,
    "turns": [
        {"speaker": "borrower", "text": "我还欠你们多少钱", "minutes": 0},
        {"speaker": "agent", "text": LEAK, "minutes": 30},
    ],
    "verdicts": {"GREETING": "pass", "IDENTITY_CHECK": "fail", "CLOSING": "pass"},
    "severe": True,
}


def write(path: Path, *rows: dict) -> Path:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def test_the_tally_counts_agreement_confusions_and_severe_cases(tmp_path: Path) -> None:
    rows = evaluation.read_rows(write(tmp_path / "set.jsonl", GOOD, SEVERE))
    judge = evaluation.judge_with(service.score_transcript)
    found = evaluation.tally(rows, judge)
    assert found.transcripts == 2 and found.total == 7
    assert found.items["IDENTITY_CHECK"].agreed == 2
    assert found.items["CLOSING"].confusion[("pass", "fail")] == 1  # the leak closes nothing
    assert (found.severe_flagged, found.severe_missed, found.false_alarms) == (1, 0, 0)


def test_the_command_prints_aggregates_beside_the_baseline_and_never_a_transcript(tmp_path: Path) -> None:
    labelled = write(tmp_path / "set.jsonl", GOOD, SEVERE)
    result = CliRunner().invoke(app, ["quality", "eval", "--set", str(labelled)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "transcripts: 2   verdicts: 7" in out
    # the earlier rubric wanted the agent to name themselves and knew no verification by question
    assert "overall agreement: 6/7" in out and "baseline 3/7" in out
    assert (
        "severe flagged: 1/1  missed: 0  false alarms: 0   baseline flagged 1/1  missed 0  false alarms 1"
        in out
    )
    assert "IDENTITY_CHECK      2   100.0 %    50.0 %   pass→1/0/0  fail→0/1/0" in out
    assert LEAK not in out and "8600" not in out


def test_an_unreadable_set_is_refused_with_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({**GOOD, "verdicts": {"GREETING": "maybe"}}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["quality", "eval", "--set", str(broken), "--no-baseline"])
    assert result.exit_code == 2 and "line 1" in result.output
