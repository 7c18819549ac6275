"""Emergency mode (PRODUCT.md R7.3): incidents, their runbook checklist, updates broadcast to the
affected borrowers, the public status page, and the hold on outbound collection contact."""
