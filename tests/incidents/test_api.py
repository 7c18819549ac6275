"""The incidents API: declare, checklist, updates and their broadcast, resolve, the public status —
with the roles, the hostile inputs and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from lenddesk.core.db import session_factory
from lenddesk.core.models import AuditEntry
from lenddesk.desk.models import OutboxMessage
from lenddesk.incidents.models import Delivery
from tests.conftest import PASSWORD
from tests.incidents.conftest import LEAK_NOTICE, OUTAGE_NOTICE, Book

OUTAGE = {
    "kind": "outage",
    "title": "支付通道故障",
    "public_notice": OUTAGE_NOTICE,
    "pause_outbound": True,
    "products": None,
}


@pytest.fixture
def api(pinned_app, as_role, book: Book):  # type: ignore[no-untyped-def]
    client = TestClient(pinned_app)

    def call(method: str, path: str, role: str | None = "team_lead", **kwargs: Any):  # type: ignore[no-untyped-def]
        headers = as_role(role) if role else {}
        return client.request(method, path, headers=headers, **kwargs)

    return call


def _declare(api, role: str = "team_lead", **overrides: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = api("POST", "/api/v1/incidents", role, json={**OUTAGE, **overrides})
    assert response.status_code == 201, response.text
    return response.json()


def _finish_checklist(api, incident: dict[str, Any], role: str = "team_lead") -> None:  # type: ignore[no-untyped-def]
    for item in incident["checklist"]:
        response = api("POST", f"/api/v1/incidents/{incident['id']}/checklist/{item['code']}", role)
        assert response.status_code == 200, response.text


def _audit_actions(engine: Engine) -> list[str]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "incident")))


def test_a_declaration_answers_the_runbooks_checklist_and_is_audited(api, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    incident = _declare(api)
    assert incident["status"] == "active"
    assert [item["code"] for item in incident["checklist"]] == [
        "assess_scope",
        "notify_leads",
        "restore_service",
        "waive_caused_fees",
        "post_mortem",
    ]
    assert [item["required"] for item in incident["checklist"]] == [True, True, True, True, False]
    assert not any(item["done"] for item in incident["checklist"])
    assert api("GET", f"/api/v1/incidents/{incident['id']}", "agent").json()["title"] == "支付通道故障"
    assert _audit_actions(engine) == ["incident.declare"]


@pytest.mark.parametrize("role", ["agent", "collector", "qa"])
def test_only_leads_compliance_and_admins_declare(api, role: str) -> None:  # type: ignore[no-untyped-def]
    response = api("POST", "/api/v1/incidents", role, json=OUTAGE)
    assert response.status_code == 403
    assert response.json()["message_zh"] and response.json()["message_en"]


def test_the_incident_api_needs_a_sign_in_but_the_status_does_not(api) -> None:  # type: ignore[no-untyped-def]
    assert api("POST", "/api/v1/incidents", None, json=OUTAGE).status_code == 401
    assert api("GET", "/api/v1/incidents/1", None).status_code == 401
    assert api("GET", "/api/v1/status", None).json() == {"operational": True, "incidents": []}


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"kind": "meteor"}, "validation_error"),
        ({"title": "   "}, "blank_text"),
        ({"title": "x" * 121}, "validation_error"),
        ({"products": []}, "empty_products"),
        ({"products": ["NOPE"]}, "unknown_product"),
        ({"public_notice": "再不还款就派人上门，让你好看"}, "guard_refused"),
        ({"public_notice": "身份证号 110101199001011237 的客户请注意"}, "guard_refused"),
        ({"public_notice": "故障\x00通知"}, "control_characters"),
        ({"extra": 1}, "validation_error"),
        ({"pause_outbound": "maybe"}, "validation_error"),
    ],
)
def test_hostile_declarations_are_refused_in_both_languages(api, overrides, code) -> None:  # type: ignore[no-untyped-def]
    response = api("POST", "/api/v1/incidents", json={**OUTAGE, **overrides})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == code
    assert body["message_zh"] and body["message_en"]


def test_resolving_waits_for_the_required_checklist(api, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    incident = _declare(api)
    path = f"/api/v1/incidents/{incident['id']}"
    refused = api("POST", f"{path}/resolve", json={"summary": "恢复"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "checklist_open"
    assert "restore_service" in refused.json()["message_en"]
    assert api("POST", f"{path}/checklist/nope").status_code == 404
    for item in incident["checklist"]:
        if item["required"]:
            assert api("POST", f"{path}/checklist/{item['code']}").status_code == 200
    again = api("POST", f"{path}/checklist/assess_scope")  # already done: nothing changes
    assert again.status_code == 200
    resolved = api("POST", f"{path}/resolve", json={"summary": "通道已恢复，罚息已核减"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert api("POST", f"{path}/resolve", json={"summary": "again"}).json()["code"] == "incident_resolved"
    assert api("POST", f"{path}/checklist/post_mortem").status_code == 409
    assert api("GET", "/api/v1/incidents/999999", "agent").status_code == 404
    assert _audit_actions(engine).count("incident.checklist_done") == 4
    assert _audit_actions(engine)[-1] == "incident.resolve"


def test_a_data_leak_is_resolved_by_someone_other_than_its_declarer(api) -> None:  # type: ignore[no-untyped-def]
    incident = _declare(api, kind="data_leak", title="外包服务器被非法访问")
    _finish_checklist(api, incident)
    path = f"/api/v1/incidents/{incident['id']}/resolve"
    same = api("POST", path, "team_lead", json={"summary": "已处置"})
    assert same.status_code == 403
    assert same.json()["code"] == "same_person"
    assert api("POST", path, "compliance", json={"summary": "已处置"}).status_code == 200


def _outbox(engine: Engine, kind: str = "incident") -> list[tuple[str, str]]:
    with session_factory(engine)() as session:
        return list(
            session.execute(
                select(OutboxMessage.recipient, OutboxMessage.body).where(OutboxMessage.kind == kind)
            )
        )


def test_a_broadcast_goes_once_to_each_borrower_in_scope(api, engine: Engine, book: Book) -> None:  # type: ignore[no-untyped-def]
    incident = _declare(api, products=[book.product_a])
    path = f"/api/v1/incidents/{incident['id']}/updates"
    text = "支付通道已部分恢复，您可通过银行转账还款，期间不产生罚息。"
    body = {"text": text, "reference": "upd-1"}
    first = api("POST", path, json=body)
    assert first.status_code == 200, first.text
    assert first.json()["updates"][0]["recipients"] == 2  # the two borrowers of product A
    retry = api("POST", path, json=body)  # the same reference: the first update, nothing sent again
    assert retry.status_code == 200 and len(retry.json()["updates"]) == 1
    sent = _outbox(engine)
    assert len(sent) == 2 and {b for _, b in sent} == {text}
    quiet = api("POST", path, json={"text": "内部复核中", "broadcast": False})
    assert quiet.json()["updates"][-1]["recipients"] == 0
    assert len(_outbox(engine)) == 2
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 2


def test_an_update_must_pass_the_guard(api, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    incident = _declare(api)
    response = api(
        "POST", f"/api/v1/incidents/{incident['id']}/updates", json={"text": "不还钱就通知你的单位领导和家人"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "guard_refused"
    assert _outbox(engine) == []


def test_a_data_leak_notice_must_say_what_pipl_article_57_requires(api, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    incident = _declare(api, kind="data_leak", title="外包服务器被非法访问")
    path = f"/api/v1/incidents/{incident['id']}/updates"
    thin = api("POST", path, json={"text": "我们发现一起信息安全事件，正在处理。"})
    assert thin.status_code == 422
    body = thin.json()
    assert body["code"] == "leak_notice_incomplete"
    assert body["details"] == ["data_involved", "our_measures", "your_actions", "contact", "anti_scam"]
    assert "which personal data" in body["message_en"] and "防诈骗提示" in body["message_zh"]
    no_number = LEAK_NOTICE.replace("400-800-1234", "")
    assert api("POST", path, json={"text": no_number}).json()["details"] == ["contact"]
    complete = api("POST", path, json={"text": LEAK_NOTICE})
    assert complete.status_code == 200, complete.text
    assert len(_outbox(engine)) == 3  # every borrower with an open loan (no product scope)


def test_the_public_status_and_the_console_banner_follow_the_incident(pinned_app, api, book: Book) -> None:  # type: ignore[no-untyped-def]
    incident = _declare(api)
    api("POST", f"/api/v1/incidents/{incident['id']}/updates", json={"text": "正在抢修", "broadcast": False})
    status = api("GET", "/api/v1/status", None).json()
    assert status["operational"] is False
    [public] = status["incidents"]
    assert public["public_notice"] == OUTAGE_NOTICE
    assert [u["text"] for u in public["updates"]] == ["正在抢修"]
    assert "declared_by" not in public
    page = TestClient(pinned_app).get("/status")
    assert page.status_code == 200 and OUTAGE_NOTICE in page.text and "正在抢修" in page.text
    browser = TestClient(pinned_app)
    browser.post("/login", data={"username": "agent", "password": PASSWORD})
    home = browser.get("/")
    assert 'data-testid="incident-banner"' in home.text and "支付通道故障" in home.text
    _finish_checklist(api, incident)
    api("POST", f"/api/v1/incidents/{incident['id']}/resolve", json={"summary": "已恢复"})
    assert 'data-testid="incident-banner"' not in browser.get("/").text
    assert api("GET", "/api/v1/status", None).json()["operational"] is True
