"""Negotiation room: hardship cases, plan options, authority and approval, and agreements
applied to the ledger (R3)."""
