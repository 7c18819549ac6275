"""The desk's navigation entries and its figures on the home page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from lenddesk.core.models import User
from lenddesk.desk import service
from lenddesk.desk.roles import COMPLAINT_READERS, DESK, LEADS, READERS
from lenddesk.web.console import HomeCard, add_home_cards, add_nav

add_nav("工单", "/desk", *READERS, area="工单")
add_nav("今日跟进", "/desk/follow-ups", *DESK, area="工单")
add_nav("投诉", "/desk/complaints", *COMPLAINT_READERS, area="工单")
add_nav("组长看板", "/desk/board", *LEADS, area="工单")
add_nav("通知", "/desk/notifications", *DESK, area="工单")


def _my_desk_cards(session: Session, user: User, now: datetime) -> list[HomeCard]:
    if user.role not in DESK:
        return []
    mine = service.my_desk(session, viewer_id=user.id, now=now)
    return [
        HomeCard("我的待办工单", str(mine.open_tickets), "/desk?view=mine"),
        HomeCard("即将超时", str(mine.at_risk), "/desk?view=mine", "warn" if mine.at_risk else ""),
        HomeCard("已超时", str(mine.breached), "/desk?view=mine", "bad" if mine.breached else ""),
        HomeCard(
            "今日跟进", str(mine.follow_ups_due), "/desk/follow-ups", "warn" if mine.follow_ups_due else ""
        ),
        HomeCard(
            "未读通知",
            str(mine.unread_notifications),
            "/desk/notifications",
            "warn" if mine.unread_notifications else "",
        ),
    ]


add_home_cards(_my_desk_cards)
