"""The risk room: abnormal-activity alerts, the blacklist and the early-warning score (docs/RISK.md).

Other rooms read it through `lenddesk.risk.service`: `is_blacklisted(session, borrower_id)` and the
set-based `blacklisted_borrower_ids()` statement.
"""
