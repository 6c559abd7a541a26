"""Wall times that daylight saving skips or repeats, and the one instant each posts at."""

from __future__ import annotations

DST_ROWS = [
    # zone, local date, wall time, the one instant it posts at (UTC)
    ("America/New_York", "2025-03-09", "02:30", "2025-03-09T07:00"),  # gap: at 03:00 EDT
    ("America/New_York", "2025-11-02", "01:30", "2025-11-02T05:30"),  # twice: the first (EDT)
    ("Europe/Berlin", "2025-03-30", "02:30", "2025-03-30T01:00"),  # gap: at 03:00 CEST
    ("Europe/Berlin", "2025-10-26", "02:30", "2025-10-26T00:30"),  # twice: the first (CEST)
]
