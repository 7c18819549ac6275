"""The staff roles. A leaf module: the policy validates role names against it and the models store them.

Each room names who may do what in its own `roles.py`, built from the sets below; its API and its
console pages import that one table (admin is always allowed besides: see `auth.require_roles`).
"""

from __future__ import annotations

from collections.abc import Iterable

ROLES = ("agent", "collector", "team_lead", "qa", "compliance", "admin")

STAFF = ("agent", "collector", "team_lead", "qa", "compliance")  # every role but admin
FRONT_LINE = ("agent", "collector", "team_lead")  # who works tickets and talks to borrowers
LEADS = ("team_lead",)
SENIORS = ("team_lead", "compliance")  # who approves what the front line asks (policy may narrow)
OVERSIGHT = ("team_lead", "qa", "compliance")  # who reads the reports


def admits(role: str, roles: Iterable[str]) -> bool:
    """Whether a user of `role` may do what `roles` may do (admin always may)."""
    return role == "admin" or role in roles
