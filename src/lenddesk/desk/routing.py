"""Who gets a new ticket. Pure.

A team is chosen by skill (its categories); inside the team the least-loaded online agent with
room below capacity gets it, ties broken round-robin after the last agent assigned; when no agent
qualifies the ticket waits in the team queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

AGENT_STATUSES = ("online", "away", "offline")


@dataclass(frozen=True)
class TeamSkills:
    team_id: int
    code: str
    skills: frozenset[str]


@dataclass(frozen=True)
class AgentSlot:
    user_id: int
    status: str
    capacity: int
    load: int


def choose_team(
    teams: Sequence[TeamSkills], category: str, *, flagged: bool, complaints_team: str
) -> TeamSkills | None:
    """Flagged (regulator/media) complaints go to the complaints team; else the first team with the skill."""
    if flagged:
        for team in teams:
            if team.code == complaints_team:
                return team
    for team in sorted(teams, key=lambda t: t.team_id):
        if category in team.skills:
            return team
    for team in sorted(teams, key=lambda t: t.team_id):
        if "*" in team.skills:
            return team
    return None


def choose_agent(agents: Sequence[AgentSlot], last_assigned: int | None) -> int | None:
    """The least-loaded online agent with room; among equals the next after `last_assigned`."""
    eligible = [a for a in agents if a.status == "online" and a.load < a.capacity]
    if not eligible:
        return None
    lowest = min(a.load for a in eligible)
    tied = sorted(a.user_id for a in eligible if a.load == lowest)
    if last_assigned is not None:
        for user_id in tied:
            if user_id > last_assigned:
                return user_id
    return tied[0]
