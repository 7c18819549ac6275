"""Assistant room: the Chinese FAQ bot, emotion and handoff, anti-scam, and the web chat (R5, R2.7)."""
