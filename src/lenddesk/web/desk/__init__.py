"""Console pages of the desk room: queues, the ticket page, follow-ups, complaints and the team board.

Plain server-rendered forms: every action POSTs and redirects back (PRG) with a one-shot flash
message. A refused action (a LendDeskError from the service) rolls the request back and re-renders
the page with the message in Chinese, keeping what the agent typed.

One module per page: `tickets` (queue and ticket page), `complaints`, `follow_ups`,
`notifications`, `board`; `home` adds the navigation and the home-page figures, `labels` the
templates' label tables.
"""

from __future__ import annotations

from fastapi import APIRouter

from lenddesk.web.desk import board, complaints, follow_ups, home, labels, notifications, tickets

router = APIRouter(include_in_schema=False)
for _pages in (tickets, complaints, follow_ups, notifications, board):
    router.include_router(_pages.router)

__all__ = ["home", "labels", "router"]
