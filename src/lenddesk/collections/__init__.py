"""Collections room: strategies, the daily contact plan, the compliance guard, scripts and
promises to pay (R4)."""
