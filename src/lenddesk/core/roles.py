"""The staff roles. A leaf module: the policy validates role names against it and the models store them."""

from __future__ import annotations

ROLES = ("agent", "collector", "team_lead", "qa", "compliance", "admin")
