"""The desk's "deliver now" (`POST /api/v1/desk/outbox/deliver`), driven by the channels room.

The address is the desk's, where the console and integrations have always found it; the driver is
the channels room's delivery worker, the same one `lenddesk desk deliver` runs (docs/ARCHITECTURE.md
"The outbox"). It commits as the worker does (claim, send, settle), so it opens no request session.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request

from lenddesk.channels import worker
from lenddesk.channels.schemas import DeliveryOut
from lenddesk.core import auth
from lenddesk.core.db import utcnow
from lenddesk.core.http import errors
from lenddesk.core.models import User
from lenddesk.core.policy import get_policy
from lenddesk.core.settings import get_settings

router = APIRouter(prefix="/api/v1/desk", tags=["desk"])
LEADS = ("team_lead",)


def _clock(request: Request) -> datetime:
    clock = getattr(request.app.state, "desk_clock", None)  # tests pin the desk's time this way
    return clock() if clock is not None else utcnow()


@router.post(
    "/outbox/deliver",
    response_model=DeliveryOut,
    summary="Deliver waiting outbox messages now",
    responses=errors(401, 403),
)
def deliver_outbox(request: Request, _: User = auth.allow(*LEADS)) -> DeliveryOut:
    outcome = worker.deliver(
        request.app.state.session_factory,
        log_dir=get_settings().delivery_log_dir,
        policy=get_policy().channels,
        clock=lambda: _clock(request),
    )
    failed = outcome["failed"] + outcome["retry"] + outcome["dead"]
    return DeliveryOut(delivered=outcome["delivered"] + outcome["sent"], failed=failed)
