"""Quality room: automatic QA of every conversation, the review queue, scorecards and the case
library (R6)."""
