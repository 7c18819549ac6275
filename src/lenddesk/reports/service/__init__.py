"""Use cases of the reports room. Functions take a Session or Connection and never commit."""

from lenddesk.reports.service.queries import (
    Period,
    cure_rates,
    flow_rates,
    latest_month,
    loans_behind,
    month_end_positions,
    portfolio_at_risk,
    roll_rates,
    vintage,
)
from lenddesk.reports.service.snapshot import MonthWritten, months_to_rebuild, write_month, written_months

__all__ = [
    "MonthWritten",
    "Period",
    "cure_rates",
    "flow_rates",
    "latest_month",
    "loans_behind",
    "month_end_positions",
    "months_to_rebuild",
    "portfolio_at_risk",
    "roll_rates",
    "vintage",
    "write_month",
    "written_months",
]
