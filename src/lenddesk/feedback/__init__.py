"""Feedback room: CSAT and NPS surveys after every resolved ticket, and their dashboards (R6)."""
