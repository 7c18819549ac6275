"""The quality API: calibration scoring, the review queue and verdicts, the agent's acknowledgement,
per-item disagreement, scorecards and the case library — and hostile input everywhere."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from lenddesk.quality.models import QaItemVerdict, QaReview
from tests.quality.conftest import GOOD_AGENT, GOOD_BORROWER, user_id

SEVERE_AGENT = ["您好，我是客服。再不还钱就等着坐牢吧！"]


def transcript(*turns: tuple[str, str]) -> dict:
    return {
        "channel": "chat",
        "transcript": [
            {"speaker": who, "text": text, "at": f"2026-11-24T10:{i:02d}:00+08:00"}
            for i, (who, text) in enumerate(turns)
        ],
    }


def test_score_any_transcript_without_storing_it(client: TestClient, as_role, session: Session) -> None:
    body = transcript(
        ("borrower", "我这个月还多少？"),
        ("agent", "您好，我是客服小李。本期应还1,050.00元，12月5日到期，可在 App 还款。感谢您！"),
    )
    body["verified_at"] = "2026-11-24T10:00:30+08:00"
    body["ledger"] = {"amount_due": "1050.00", "due_date": "2026-12-05", "settle_amount": "2100.00"}
    response = client.post("/api/v1/quality/score", json=body, headers=as_role("qa"))
    assert response.status_code == 200, response.text
    result = response.json()
    items = {i["code"]: i for i in result["items"]}
    assert items["ACCURACY"]["result"] == "pass" and items["IDENTITY_CHECK"]["result"] == "pass"
    assert result["severe"] is False and result["score"] == 100
    body["ledger"]["amount_due"] = "1500.00"
    body["verified_at"] = None
    wrong = client.post("/api/v1/quality/score", json=body, headers=as_role("admin")).json()
    assert wrong["severe"] is True and wrong["score"] == 0
    assert {i["code"]: i["result"] for i in wrong["items"]}["ACCURACY"] == "fail"
    assert session.scalar(select(func.count()).select_from(QaReview)) == 0


@pytest.mark.parametrize("role", ["agent", "team_lead", "collector", "compliance"])
def test_only_quality_and_admin_may_calibrate(client: TestClient, as_role, role: str) -> None:
    response = client.post("/api/v1/quality/score", json=transcript(("agent", "您好")), headers=as_role(role))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "broken",
    [
        {"channel": "chat", "transcript": []},
        {"channel": "chat", "transcript": [{"speaker": "judge", "text": "x"}]},
        {"channel": "chat", "transcript": [{"speaker": "agent", "text": "x" * 5001}]},
        {"channel": "chat", "transcript": [{"speaker": "agent", "text": "x", "at": "99999-01-01T00:00:00"}]},
        {
            "channel": "chat",
            "transcript": [{"speaker": "agent", "text": "x"}],
            "ledger": {"amount_due": 10.5},
        },
        {
            "channel": "chat",
            "transcript": [{"speaker": "agent", "text": "x"}],
            "ledger": {"amount_due": "9" * 40},
        },
        {
            "channel": "chat",
            "transcript": [{"speaker": "agent", "text": "x"}],
            "first_response_minutes": 2**70,
        },
        {"channel": "chat", "transcript": [{"speaker": "agent", "text": "x"}], "extra": 1},
        {"channel": "chat", "transcript": [{"speaker": "agent", "text": "x", "at": "0001-01-01T00:00:00"}]},
    ],
)
def test_malformed_transcripts_are_422(client: TestClient, as_role, broken: dict) -> None:
    response = client.post("/api/v1/quality/score", json=broken, headers=as_role("qa"))
    assert response.status_code == 422, response.text
    assert {"code", "message_zh", "message_en"} <= set(response.json())


@pytest.mark.parametrize("text", ["\ud800坐牢", "您好\x00", "ｎｉ ｈａｏ" * 400, "𠀀" * 2000])
def test_odd_text_is_scored_or_refused_never_a_500(client: TestClient, as_role, text: str) -> None:
    body = transcript(("agent", text))
    response = client.post(
        "/api/v1/quality/score",
        content=__import__("json").dumps(body, ensure_ascii=True),
        headers={**as_role("qa"), "Content-Type": "application/json"},
    )
    assert response.status_code in (200, 422), response.text


def _pending(client: TestClient, as_role) -> list[dict]:
    response = client.get("/api/v1/quality/reviews", headers=as_role("qa"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_review_verdicts_acknowledgement_and_disagreement(
    work_ticket, client: TestClient, as_role, session: Session, desk_data
) -> None:
    number = work_ticket(["你好，我还不上了"], SEVERE_AGENT)
    [row] = _pending(client, as_role)
    assert row["ticket_number"] == number and row["reason"] == "severe" and "BANNED_LANGUAGE" in row["failed"]
    # The agent does not see a review before it is decided.
    assert client.get("/api/v1/quality/reviews", headers=as_role("agent")).json()["items"] == []
    assert client.get(f"/api/v1/quality/reviews/{row['id']}", headers=as_role("agent")).status_code == 404
    verdict = {
        "verdicts": [
            {"code": "BANNED_LANGUAGE", "result": "fail", "comment": "虚构坐牢后果"},
            {"code": "CLOSING", "result": "n/a", "comment": "客户挂断"},
        ],
        "comment": "严重违规，需辅导",
    }
    url = f"/api/v1/quality/reviews/{row['id']}"
    decided = client.post(url, json=verdict, headers=as_role("qa"))
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] == "reviewed" and body["human_score"] == 0
    verdicts = {v["code"]: v for v in body["verdicts"]}
    assert verdicts["CLOSING"]["agrees"] is False and verdicts["BANNED_LANGUAGE"]["agrees"] is True
    assert client.post(url, json=verdict, headers=as_role("team_lead")).status_code == 409
    # The agent sees the feedback and acknowledges it, once.
    mine = client.get("/api/v1/quality/reviews", params={"status": ""}, headers=as_role("agent")).json()[
        "items"
    ]
    assert [m["id"] for m in mine] == [row["id"]]
    ack = client.post(f"{url}/acknowledge", json={"comment": "收到，会改正"}, headers=as_role("agent"))
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert client.post(f"{url}/acknowledge", json={}, headers=as_role("agent")).status_code == 409
    stats = {d["code"]: d for d in client.get("/api/v1/quality/disagreements", headers=as_role("qa")).json()}
    assert stats["CLOSING"]["reviewed"] == 1 and stats["CLOSING"]["agreed"] == 0
    assert stats["CLOSING"]["auto_fail_human_pass"] == 0 and stats["BANNED_LANGUAGE"]["agreement"] == 1.0
    assert session.scalar(select(func.count(QaItemVerdict.id))) == 9
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("quality.%"))))
    assert {"quality.review", "quality.acknowledge"} <= actions


def test_another_agent_cannot_acknowledge_and_bad_verdicts_change_nothing(
    work_ticket, client: TestClient, as_role, session: Session, desk_data
) -> None:
    work_ticket(["你好"], SEVERE_AGENT)
    [row] = _pending(client, as_role)
    url = f"/api/v1/quality/reviews/{row['id']}"
    for bad in (
        {"verdicts": [{"code": "MOOD", "result": "pass"}]},
        {"verdicts": [{"code": "GREETING", "result": "maybe"}]},
        {"verdicts": [{"code": "GREETING", "result": "pass"}, {"code": "GREETING", "result": "fail"}]},
        {"comment": "x" * 5001},
    ):
        assert client.post(url, json=bad, headers=as_role("qa")).status_code == 422
    assert client.post(url, json={}, headers=as_role("agent")).status_code == 403
    assert client.post("/api/v1/quality/reviews/999999", json={}, headers=as_role("qa")).status_code == 404
    assert client.post(f"/api/v1/quality/reviews/{2**64}", json={}, headers=as_role("qa")).status_code == 422
    assert client.post(f"{url}/acknowledge", json={}, headers=as_role("collector")).status_code == 404
    assert session.scalar(select(QaReview.status)) == "pending"


def test_cases_are_saved_from_reviews_and_found_in_either_script(
    work_ticket, client: TestClient, as_role, session: Session, desk_data
) -> None:
    work_ticket(["你好，我还不上了"], SEVERE_AGENT)
    [row] = _pending(client, as_role)
    case = {
        "review_id": row["id"],
        "kind": "warning",
        "title": "虚构坐牢后果",
        "lesson": "不得以刑事后果恐吓客户",
        "tags": ["催收话术"],
    }
    assert (
        client.post("/api/v1/quality/cases", json=case, headers=as_role("qa")).status_code == 409
    )  # not reviewed yet
    client.post(f"/api/v1/quality/reviews/{row['id']}", json={}, headers=as_role("qa"))
    saved = client.post("/api/v1/quality/cases", json=case, headers=as_role("qa"))
    assert saved.status_code == 201, saved.text
    assert saved.json()["transcript"][0]["speaker"] == "borrower"

    def search(**params) -> list[str]:
        found = client.get("/api/v1/quality/cases", params=params, headers=as_role("agent"))
        assert found.status_code == 200, found.text
        return [c["title"] for c in found.json()]

    assert search(q="恐嚇") == ["虚构坐牢后果"]  # Traditional finds Simplified
    assert search(q="坐牢 恐吓", kind="warning") == ["虚构坐牢后果"]
    assert search(tag="催收话术") == ["虚构坐牢后果"]
    assert search(q="100%_") == [] and search(kind="model") == []
    bad = {**case, "kind": "gold"}
    assert client.post("/api/v1/quality/cases", json=bad, headers=as_role("qa")).status_code == 422
    assert client.post("/api/v1/quality/cases", json=case, headers=as_role("agent")).status_code == 403


def test_scorecards_per_agent_and_team_with_trend(
    work_ticket, client: TestClient, as_role, session: Session, desk_data
) -> None:
    work_ticket(GOOD_BORROWER, GOOD_AGENT, sender="13900000001")
    work_ticket(["你好"], SEVERE_AGENT, sender="13900000002")
    agent_id = str(user_id(session, "agent"))
    response = client.get(
        "/api/v1/quality/scorecards", params={"period": "2026-W48"}, headers=as_role("team_lead")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    [card] = [r for r in body["rows"] if r["key"] == agent_id]
    assert card["conversations"] == 2 and card["qa_score"] == 50.0 and card["severe"] == 1
    assert card["sla_attainment"] == 1.0 and card["reopen_rate"] == 0.0
    assert [t["period"] for t in body["trend"]][-1] == "2026-W48" and len(body["trend"]) == 8
    month = client.get(
        "/api/v1/quality/scorecards", params={"period": "2026-11", "scope": "team"}, headers=as_role("qa")
    ).json()
    assert sum(r["conversations"] for r in month["rows"]) == 2 and len(month["trend"]) == 6
    mine = client.get(
        "/api/v1/quality/scorecards", params={"period": "2026-11", "scope": "team"}, headers=as_role("agent")
    )
    assert [r["key"] for r in mine.json()["rows"]] == [agent_id]  # an agent sees only their own card
    for bad in ("2026-W60", "2026-13", "last week", "9999999999"):
        assert (
            client.get(
                "/api/v1/quality/scorecards", params={"period": bad}, headers=as_role("qa")
            ).status_code
            == 422
        )


def test_rescore_is_for_quality_and_admin(client: TestClient, as_role, work_ticket, desk_data) -> None:
    work_ticket(GOOD_BORROWER, GOOD_AGENT)
    assert client.post("/api/v1/quality/rescore", json={}, headers=as_role("team_lead")).status_code == 403
    response = client.post("/api/v1/quality/rescore", json={}, headers=as_role("qa"))
    assert response.status_code == 200 and response.json()["written"] == 0


def test_a_team_lead_may_not_review_a_conversation_of_their_own(
    work_ticket, client: TestClient, as_role, session: Session, desk_data
) -> None:
    work_ticket(["你好，我还不上了"], SEVERE_AGENT)
    [row] = _pending(client, as_role)
    lead = user_id(session, "team_lead")
    session.execute(update(QaReview).where(QaReview.id == row["id"]).values(agent_id=lead))
    session.commit()
    url = f"/api/v1/quality/reviews/{row['id']}"
    own = client.post(url, json={"comment": "没问题"}, headers=as_role("team_lead"))
    assert own.status_code == 403, own.text
    assert own.json()["message_zh"] and own.json()["message_en"]
    session.expire_all()
    assert session.scalar(select(QaReview.status).where(QaReview.id == row["id"])) == "pending"
    # Somebody else reviews it.
    assert client.post(url, json={"comment": "需辅导"}, headers=as_role("qa")).status_code == 200
