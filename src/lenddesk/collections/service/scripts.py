"""Scripts (话术): templates per stage and channel, saved only when they pass the guard."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.collections import guard, rules
from lenddesk.collections.models import Script
from lenddesk.collections.service._common import check_channel, collections_policy, violation_dicts
from lenddesk.core import audit
from lenddesk.core.errors import Unprocessable

STAGES = ("pre_due", "due", "M1", "M2", "M3+")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


class ScriptRejected(Unprocessable):
    default_code = "script_rejected"


def script_verdict(body: str) -> list[guard.Violation]:
    """The template's text violations, checked as written and with realistic values filled in."""
    policy = collections_policy()
    filled = rules.render(
        body, rules.sample_values(policy.repayment_channels, policy.hotline, policy.lender_name)
    )
    found = {v.code: v for v in guard.text_violations(body)}
    for violation in guard.text_violations(filled):
        found.setdefault(violation.code, violation)
    return list(found.values())


def save_script(
    session: Session,
    *,
    actor: audit.Actor,
    code: str,
    stage: str,
    channel: str,
    title: str,
    body: str,
    now: datetime,
) -> Script:
    """Create or replace a script; a template the guard rejects is not saved (422 with violations)."""
    if not _CODE.match(code):
        raise Unprocessable(
            "话术编号须为 2–32 位小写字母、数字或下划线",
            "code: 2–32 lower-case letters, digits or _",
            code="bad_script_code",
        )
    if stage not in STAGES:
        raise Unprocessable(
            f"未知阶段：{stage}", f"Unknown stage; one of {', '.join(STAGES)}", code="unknown_stage"
        )
    check_channel(channel)
    title, body = title.strip(), body.strip()
    if not title or len(title) > 64 or not body or len(body) > 2000:
        raise Unprocessable(
            "标题（≤64 字）和内容（≤2000 字）不能为空", "title (≤64) and body (≤2000) are required"
        )
    unknown = rules.unknown_variables(body)
    if unknown:
        raise Unprocessable(
            f"未知变量：{', '.join(unknown)}",
            f"Unknown variables {unknown}; known: {', '.join(rules.VARIABLES)}",
            code="unknown_variable",
        )
    violations = script_verdict(body)
    if violations:
        raise ScriptRejected(
            "话术未通过合规检查，未保存",
            "The script fails the compliance guard and was not saved",
            details={"violations": violation_dicts(violations)},
        )
    script = session.scalar(select(Script).where(Script.code == code).with_for_update())
    before = None
    if script is None:
        script = Script(code=code, stage=stage, channel=channel, title=title, body=body, version=1)
        session.add(script)
    else:
        before = {"title": script.title, "body": script.body, "version": script.version}
        script.stage, script.channel, script.title, script.body = stage, channel, title, body
        script.version = Script.version + 1
    script.updated_by, script.updated_at = actor.name, now
    session.flush()
    audit.record(
        session, actor, "collections.script", ("script", code), before, {"title": title, "body": body}
    )
    return script


def list_scripts(session: Session) -> list[Script]:
    return list(session.scalars(select(Script).order_by(Script.stage, Script.code)))
