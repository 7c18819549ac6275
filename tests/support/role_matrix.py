"""Who may call each state-changing route: the one source of the role matrix.

tests/core/test_role_matrix.py walks every POST/PUT/PATCH/DELETE route of the app as every role and
checks it against this table; docs/SECURITY.md's "Role matrix" is generated from it
(`.venv/bin/python scripts/role_matrix.py`). A new route fails that test until it is added here.
"""

from __future__ import annotations

from dataclasses import dataclass

STAFF_ROLES = ("agent", "collector", "team_lead", "qa", "compliance", "admin")
COLUMNS = (*STAFF_ROLES, "channel")  # "channel": a channel adapter with its X-LendDesk-Key


@dataclass(frozen=True)
class Access:
    roles: frozenset[str]  # empty with public=True: no sign-in needed
    note: str = ""  # the rule inside the route, beyond the role (ownership, four eyes)
    public: bool = False


def roles(*names: str, note: str = "") -> Access:
    """Staff roles that may call a route; admins always may (see core.auth.require_roles)."""
    return Access(frozenset(names) | {"admin"}, note)


PUBLIC = Access(frozenset(), "no sign-in", public=True)
ADMIN = roles("admin")
DESK = roles("agent", "collector", "team_lead")
LEADS = roles("team_lead")
COMPLAINT_HANDLERS = roles("agent", "team_lead", "compliance")
CONSULT_ANSWERERS = roles("agent", "collector", "team_lead", "compliance")

CARE_CASE_NOTE = "agent, collector: a borrower they may open (the case)"
CAMPAIGN_NOTE = "never the campaign's creator (policy campaign_approver_roles)"
LAUNCH_NOTE = "an approved campaign, on its send date; each borrower once"
REVISIT_NOTE = "its owner; team lead and compliance any"

ASSIGN_NOTE = (
    "agent, collector: only an unowned ticket or their own, to themselves or to a team queue; "
    "team lead, admin: any ticket, to anyone"
)
WORKLIST_NOTE = (
    "collector: a borrower on their worklist (or a ticket of theirs); the guard may block (recorded)"
)
CLAIM_NOTE = "an unowned ticket (or one's own)"
FOLLOW_UP_NOTE = "the follow-up's owner; team lead, admin: any"
OWN_STATUS_NOTE = "one's own status; team lead, admin: anyone's"
APPROVAL_NOTE = "roles in policy `complaint_senior_roles` (and admin), never the person who asked"
EXTEND_NOTE = "one step (15 → 30 → 60 days) before the deadline; 60 waits for a second senior person"

REVIEW_NOTE = "a pending review, decided once"
ACKNOWLEDGE_NOTE = "the agent of a reviewed conversation, once"

CASE_NOTE = "agents, collectors: through a case of theirs, as for reading the loan (`?ticket=`)"
LEDGER_DESK = roles("agent", "collector", "team_lead", note=CASE_NOTE)
RECOVERY_POSTERS = roles("collector", "team_lead", note="written-off loans only; " + CASE_NOTE)
LEDGER_APPROVERS_REFUND = roles(
    "team_lead", "compliance", note="roles in policy `refund_approver_roles`, never the person who asked"
)
LEDGER_APPROVERS_WAIVER = roles(
    "team_lead", "compliance", note="roles in policy `waiver_approver_roles`, never the person who asked"
)
NEGOTIATION_NOTE = "within the proposer's authority it is approved at once, else it waits for approval"
PROPOSAL_APPROVAL_NOTE = "the level the authority matrix names (or higher), never the person who proposed"
SIGNED_NOTE = "no sign-in; signature and timestamp window checked before anything is written"
BLACKLIST_NOTE = (
    "roles in policy `blacklist_approver_roles` (and admin), never the person who asked; lists or removes"
)
REMOVAL_NOTE = "a listed entry; it stays listed until a second person approves"
WAIVER_NOTE = (
    "what one person waives alone on a loan in `waiver_single_approval_window_days` adds up; past "
    "`waiver_single_approval_fen` it waits for a second person; " + CASE_NOTE
)

RESOLVE_NOTE = "every required checklist item done; a data leak: not the person who declared it"
LEAK_NOTICE_NOTE = "a data leak's broadcast must carry PIPL Art. 57 content and an anti-scam line"

MATRIX: dict[str, Access] = {
    # sign-in
    "POST /api/v1/auth/token": PUBLIC,
    "POST /login": PUBLIC,
    "POST /logout": PUBLIC,
    "POST /api/v1/auth/logout": roles(
        "agent", "collector", "team_lead", "qa", "compliance", note="ends every session of the caller"
    ),
    "POST /api/v1/auth/password": roles(
        "agent", "collector", "team_lead", "qa", "compliance", note="one's own password, with the current one"
    ),
    "POST /account/password": roles(
        "agent", "collector", "team_lead", "qa", "compliance", note="one's own password, with the current one"
    ),
    # users
    "POST /api/v1/users": ADMIN,
    "PATCH /api/v1/users/{user_id}": ADMIN,
    "POST /api/v1/users/{user_id}/unlock": ADMIN,
    "POST /api/v1/users/{user_id}/password": ADMIN,
    # ledger
    "POST /api/v1/ledger/borrowers": ADMIN,
    "POST /api/v1/ledger/borrowers/{borrower_id}/contacts": ADMIN,
    "POST /api/v1/ledger/products": ADMIN,
    "POST /api/v1/ledger/loans": ADMIN,
    "POST /api/v1/ledger/repayments": LEDGER_DESK,
    "POST /api/v1/ledger/repayments/{repayment_id}/reversal": LEDGER_DESK,
    "POST /api/v1/ledger/repayments/{repayment_id}/reversal/approve": LEADS,
    "POST /api/v1/ledger/repayments/{repayment_id}/reversal/reject": LEADS,
    "POST /api/v1/ledger/recoveries": RECOVERY_POSTERS,
    "POST /api/v1/ledger/loans/{contract_number}/refunds": LEDGER_DESK,
    "POST /api/v1/ledger/refunds/{refund_id}/approve": LEDGER_APPROVERS_REFUND,
    "POST /api/v1/ledger/refunds/{refund_id}/reject": LEDGER_APPROVERS_REFUND,
    "POST /api/v1/ledger/loans/{contract_number}/waivers": roles(
        "agent", "collector", "team_lead", note=WAIVER_NOTE
    ),
    "POST /api/v1/ledger/waivers/{waiver_id}/approve": LEDGER_APPROVERS_WAIVER,
    "POST /api/v1/ledger/waivers/{waiver_id}/reject": LEDGER_APPROVERS_WAIVER,
    "POST /loans/{contract_number}/recoveries": RECOVERY_POSTERS,
    "POST /loans/{contract_number}/refunds": LEDGER_DESK,
    "POST /loans/{contract_number}/refunds/{refund_id}/{decision}": LEDGER_APPROVERS_REFUND,
    "POST /loans/{contract_number}/waivers": roles("agent", "collector", "team_lead", note=WAIVER_NOTE),
    "POST /loans/{contract_number}/waivers/{waiver_id}/{decision}": LEDGER_APPROVERS_WAIVER,
    # negotiation API
    "POST /api/v1/negotiation/cases": roles(
        "agent", "collector", "team_lead", note="on a ticket of theirs, verified to the account-data level"
    ),
    "POST /api/v1/negotiation/cases/{case_id}/proposals": roles(
        "agent", "collector", "team_lead", note=NEGOTIATION_NOTE
    ),
    "POST /api/v1/negotiation/proposals/{proposal_id}/approve": roles(
        "team_lead", "compliance", note=PROPOSAL_APPROVAL_NOTE
    ),
    "POST /api/v1/negotiation/proposals/{proposal_id}/reject": roles(
        "team_lead", "compliance", note=PROPOSAL_APPROVAL_NOTE
    ),
    "POST /api/v1/negotiation/proposals/{proposal_id}/accept": roles(
        "agent", "collector", "team_lead", note="an approved proposal, once; the ticket still verified"
    ),
    "POST /api/v1/negotiation/cases/{case_id}/close": roles("agent", "collector", "team_lead"),
    "POST /api/v1/negotiation/cases/{case_id}/library": roles(
        "team_lead", "qa", note="closed or agreed cases"
    ),
    # negotiation console (the same rules as the API)
    "POST /negotiation/tickets/{number}/cases": roles(
        "agent", "collector", "team_lead", note="on a ticket of theirs, verified to the account-data level"
    ),
    "POST /negotiation/cases/{case_id}/proposals": roles(
        "agent", "collector", "team_lead", note=NEGOTIATION_NOTE
    ),
    "POST /negotiation/proposals/{proposal_id}/accept": roles(
        "agent", "collector", "team_lead", note="an approved proposal, once; the ticket still verified"
    ),
    "POST /negotiation/proposals/{proposal_id}/{decision}": roles(
        "team_lead", "compliance", note=PROPOSAL_APPROVAL_NOTE
    ),
    "POST /negotiation/cases/{case_id}/close": roles("agent", "collector", "team_lead"),
    "POST /negotiation/cases/{case_id}/library": roles("team_lead", "qa", note="closed or agreed cases"),
    # desk API
    "POST /api/v1/desk/inbound": Access(frozenset({"admin", "channel"})),
    "POST /api/v1/desk/tickets/{number}/reply": DESK,
    "POST /api/v1/desk/tickets/{number}/notes": DESK,
    "POST /api/v1/desk/tickets/{number}/status": roles(
        "agent",
        "collector",
        "team_lead",
        note="a ticket with an open complaint ends only after its five stages",
    ),
    "POST /api/v1/desk/tickets/{number}/categorise": DESK,
    "POST /api/v1/desk/tickets/{number}/assign": roles("agent", "collector", "team_lead", note=ASSIGN_NOTE),
    "POST /api/v1/desk/tickets/{number}/claim": roles("agent", "collector", "team_lead", note=CLAIM_NOTE),
    "POST /api/v1/desk/tickets/{number}/verify/knowledge": DESK,
    "POST /api/v1/desk/tickets/{number}/verify/otp/send": DESK,
    "POST /api/v1/desk/tickets/{number}/verify/otp/check": DESK,
    "POST /api/v1/desk/tickets/{number}/verify/unlock": DESK,
    "POST /api/v1/desk/macros": LEADS,
    "POST /api/v1/desk/tickets/{number}/consults": DESK,
    "POST /api/v1/desk/consults/{consult_id}/answer": CONSULT_ANSWERERS,
    "POST /api/v1/desk/tickets/{number}/follow-ups": DESK,
    "POST /api/v1/desk/follow-ups/{follow_up_id}/done": roles(
        "agent", "collector", "team_lead", note=FOLLOW_UP_NOTE
    ),
    "POST /api/v1/desk/tickets/{number}/complaint": COMPLAINT_HANDLERS,
    "POST /api/v1/desk/tickets/{number}/complaint/stages": COMPLAINT_HANDLERS,
    "POST /api/v1/desk/tickets/{number}/complaint/extend": roles(
        "agent", "team_lead", "compliance", note=EXTEND_NOTE
    ),
    "POST /api/v1/desk/tickets/{number}/complaint/extension/approve": roles(
        "team_lead", "compliance", note=APPROVAL_NOTE
    ),
    "POST /api/v1/desk/tickets/{number}/complaint/extension/reject": roles("team_lead", "compliance"),
    "POST /api/v1/desk/tickets/{number}/complaint/close": COMPLAINT_HANDLERS,
    "PUT /api/v1/desk/agents/{user_id}/status": roles(
        "agent", "collector", "team_lead", note=OWN_STATUS_NOTE
    ),
    "PUT /api/v1/desk/sla-policies": LEADS,
    "POST /api/v1/desk/outbox/deliver": LEADS,
    "POST /api/v1/desk/notifications/{notification_id}/read": roles(
        "agent", "collector", "team_lead", note="one's own notifications"
    ),
    # desk console (the same rules as the API)
    "POST /desk/agent-status": roles("agent", "collector", "team_lead", note="one's own status"),
    "POST /desk/tickets/{number}/reply": DESK,
    "POST /desk/tickets/{number}/note": DESK,
    "POST /desk/tickets/{number}/status": DESK,
    "POST /desk/tickets/{number}/categorise": DESK,
    "POST /desk/tickets/{number}/assign": roles("agent", "collector", "team_lead", note=ASSIGN_NOTE),
    "POST /desk/tickets/{number}/claim": roles("agent", "collector", "team_lead", note=CLAIM_NOTE),
    "POST /desk/tickets/{number}/verify/knowledge": DESK,
    "POST /desk/tickets/{number}/verify/otp/send": DESK,
    "POST /desk/tickets/{number}/verify/otp/check": DESK,
    "POST /desk/tickets/{number}/follow-ups": DESK,
    "POST /desk/tickets/{number}/consults": DESK,
    "POST /desk/tickets/{number}/consults/{consult_id}/answer": CONSULT_ANSWERERS,
    "POST /desk/tickets/{number}/complaint": COMPLAINT_HANDLERS,
    "POST /desk/tickets/{number}/complaint/stage": COMPLAINT_HANDLERS,
    "POST /desk/tickets/{number}/complaint/extend": roles(
        "agent", "team_lead", "compliance", note=EXTEND_NOTE
    ),
    "POST /desk/tickets/{number}/complaint/extension/approve": roles(
        "team_lead", "compliance", note=APPROVAL_NOTE
    ),
    "POST /desk/tickets/{number}/complaint/extension/reject": roles("team_lead", "compliance"),
    "POST /desk/tickets/{number}/complaint/close": COMPLAINT_HANDLERS,
    "POST /desk/follow-ups/{follow_up_id}/done": roles(
        "agent", "collector", "team_lead", note=FOLLOW_UP_NOTE
    ),
    "POST /desk/notifications/{notification_id}/read": roles(
        "agent", "collector", "team_lead", note="one's own notifications"
    ),
    "POST /desk/board/agents/{user_id}/status": LEADS,
    # collections API and console
    "POST /api/v1/collections/check": roles("compliance"),
    "POST /api/v1/collections/contacts": roles("collector", "team_lead", note=WORKLIST_NOTE),
    "POST /api/v1/collections/outcomes": roles("collector", "team_lead", note=WORKLIST_NOTE),
    "POST /api/v1/collections/scripts": roles(
        "team_lead", "compliance", note="refused (422) if the guard rejects it"
    ),
    "POST /collections/accounts/{borrower_id}/contact": roles("collector", "team_lead", note=WORKLIST_NOTE),
    "POST /collections/accounts/{borrower_id}/outcome": roles("collector", "team_lead", note=WORKLIST_NOTE),
    "POST /collections/compliance/check": roles("compliance", "team_lead"),
    # assistant: the borrower's chat (public, rate-limited), agents' live replies, the FAQ
    "POST /api/v1/assistant/messages": PUBLIC,
    "POST /assistant/chats/{public_id}/reply": roles(
        "agent", "collector", "team_lead", note="a chat handed off to a ticket; sent through the desk's reply"
    ),
    "POST /assistant/faq/{code}": ADMIN,
    # quality (API and console)
    "POST /api/v1/quality/score": roles("qa", note="scores a transcript; nothing is stored"),
    "POST /api/v1/quality/rescore": roles("qa"),
    "POST /api/v1/quality/reviews/{review_id}": roles("qa", "team_lead", note=REVIEW_NOTE),
    "POST /api/v1/quality/reviews/{review_id}/acknowledge": roles(
        "agent", "collector", "team_lead", note=ACKNOWLEDGE_NOTE
    ),
    "POST /api/v1/quality/cases": roles("qa", "team_lead", note="a reviewed conversation only"),
    "POST /quality/reviews/{review_id}": roles("qa", "team_lead", note=REVIEW_NOTE),
    "POST /quality/reviews/{review_id}/acknowledge": roles(
        "agent", "collector", "team_lead", note=ACKNOWLEDGE_NOTE
    ),
    "POST /quality/reviews/{review_id}/case": roles("qa", "team_lead", note="a reviewed conversation only"),
    # feedback: the borrower's survey page, behind its unguessable token
    "POST /survey/{token}": Access(
        frozenset(), "no sign-in; the survey's token, once, before it expires", public=True
    ),
    # risk API and console
    "POST /api/v1/risk/events": Access(frozenset({"admin", "channel"})),
    "POST /api/v1/ledger/repayment-batches": Access(frozenset({"admin", "channel"})),
    "POST /api/v1/risk/alerts/{alert_id}/acknowledge": roles("team_lead", "compliance"),
    "POST /api/v1/risk/alerts/{alert_id}/close": roles("team_lead", "compliance"),
    "POST /api/v1/risk/alerts/{alert_id}/ticket": roles("team_lead", "compliance", note="once per alert"),
    "POST /api/v1/risk/blacklist": roles("team_lead", "compliance"),
    "POST /api/v1/risk/blacklist/{entry_id}/approve": roles("compliance", note=BLACKLIST_NOTE),
    "POST /api/v1/risk/blacklist/{entry_id}/reject": roles("compliance", note=BLACKLIST_NOTE),
    "POST /api/v1/risk/blacklist/{entry_id}/remove": roles("team_lead", "compliance", note=REMOVAL_NOTE),
    "POST /risk/alerts/{alert_id}/acknowledge": roles("team_lead", "compliance"),
    "POST /risk/alerts/{alert_id}/close": roles("team_lead", "compliance"),
    "POST /risk/alerts/{alert_id}/ticket": roles("team_lead", "compliance", note="once per alert"),
    "POST /risk/blacklist": roles("team_lead", "compliance"),
    "POST /risk/blacklist/{entry_id}/approve": roles("compliance", note=BLACKLIST_NOTE),
    "POST /risk/blacklist/{entry_id}/reject": roles("compliance", note=BLACKLIST_NOTE),
    "POST /risk/blacklist/{entry_id}/remove": roles("team_lead", "compliance", note=REMOVAL_NOTE),
    "POST /risk/blacklist/check": roles("agent", "collector", "team_lead", "compliance"),
    # incidents (emergency mode) API and console
    "POST /api/v1/incidents": roles("team_lead", "compliance"),
    "POST /api/v1/incidents/{incident_id}/checklist/{code}": roles("team_lead", "compliance"),
    "POST /api/v1/incidents/{incident_id}/updates": roles("team_lead", "compliance", note=LEAK_NOTICE_NOTE),
    "POST /api/v1/incidents/{incident_id}/resolve": roles("team_lead", "compliance", note=RESOLVE_NOTE),
    "POST /incidents": roles("team_lead", "compliance"),
    "POST /incidents/{incident_id}/checklist/{code}": roles("team_lead", "compliance"),
    "POST /incidents/{incident_id}/updates": roles("team_lead", "compliance", note=LEAK_NOTICE_NOTE),
    "POST /incidents/{incident_id}/resolve": roles("team_lead", "compliance", note=RESOLVE_NOTE),
    # care API and console
    "PUT /api/v1/care/borrowers/{borrower_id}/preferences": roles(
        "agent", "collector", "team_lead", "compliance", note=CARE_CASE_NOTE
    ),
    "POST /api/v1/care/borrowers/{borrower_id}/consents": roles(
        "agent", "collector", "team_lead", "compliance", note=CARE_CASE_NOTE
    ),
    "POST /api/v1/care/borrowers/{borrower_id}/consents/{consent_id}/revoke": roles(
        "agent", "collector", "team_lead", "compliance", note=CARE_CASE_NOTE
    ),
    "POST /api/v1/care/campaigns": roles("team_lead", "compliance"),
    "POST /api/v1/care/campaigns/{campaign_id}/approve": roles("compliance", note=CAMPAIGN_NOTE),
    "POST /api/v1/care/campaigns/{campaign_id}/launch": roles("team_lead", "compliance", note=LAUNCH_NOTE),
    "POST /api/v1/care/revisits/{revisit_id}/done": roles(
        "agent", "collector", "team_lead", "compliance", note=REVISIT_NOTE
    ),
    "POST /care/campaigns": roles("team_lead", "compliance"),
    "POST /care/campaigns/{campaign_id}/approve": roles("compliance", note=CAMPAIGN_NOTE),
    "POST /care/campaigns/{campaign_id}/launch": roles("team_lead", "compliance", note=LAUNCH_NOTE),
    "POST /care/revisits/{revisit_id}/done": roles(
        "agent", "collector", "team_lead", "compliance", note=REVISIT_NOTE
    ),
    # channels: webhooks are public but signed (HMAC of the channel's secret, or WeChat's token)
    "POST /api/v1/channels/wechat": Access(frozenset(), SIGNED_NOTE, public=True),
    "POST /api/v1/channels/sms/receipts": Access(frozenset(), SIGNED_NOTE, public=True),
    "POST /api/v1/channels/sms/inbound": Access(frozenset(), SIGNED_NOTE, public=True),
    "POST /api/v1/channels/cti/events": Access(frozenset(), SIGNED_NOTE, public=True),
    "POST /api/v1/channels/cti/calls": DESK,
    "PUT /api/v1/channels/{channel}/settings": ADMIN,
    "POST /api/v1/channels/dead-letters/{outbox_id}/retry": LEADS,
    "POST /contact": Access(frozenset(), "no sign-in; rate-limited per address, honeypot", public=True),
    "POST /channels/{channel}/settings": ADMIN,
    "POST /channels/dead-letters/{outbox_id}/retry": LEADS,
}


def markdown_table() -> str:
    """The matrix as a Markdown table: ✓ allowed, — refused (403), "any" for public routes."""
    lines = [
        "| route | " + " | ".join(COLUMNS) + " | rule inside the route |",
        "| --- | " + " | ".join(":-:" for _ in COLUMNS) + " | --- |",
    ]
    for route, access in MATRIX.items():
        cells = ["any" if access.public else ("✓" if column in access.roles else "—") for column in COLUMNS]
        lines.append(f"| `{route}` | " + " | ".join(cells) + f" | {access.note} |")
    return "\n".join(lines) + "\n"
