"""Reports room: month-end snapshots, roll and flow rates, cures, vintages and PAR (docs/REPORTS.md)."""
