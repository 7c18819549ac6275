"""Who may read which report: one table shared by the reports API and console."""

from __future__ import annotations

# Portfolio reports (roll, flow and cure rates, vintages, PAR) and their exports: team leads, who
# run operations, and compliance; admins always.
PORTFOLIO_READERS = ("team_lead", "compliance")

# Promise-kept rates: collectors see only their own promises.
PROMISE_READERS = ("team_lead", "compliance", "collector")
# Satisfaction: QA reads every agent's; agents see only their own row.
CSAT_READERS = ("team_lead", "compliance", "qa", "agent")
OWN_ROWS_ONLY = ("agent", "collector")
# SLA and first-contact resolution: agents see only the tickets they own.
SLA_READERS = ("team_lead", "compliance", "qa", "agent")
