"""Calendar days as users write them (YYYY-MM-DD), checked once where they come in.

A day far in the past or future is a typo or a probe, and the archive computes with the
days it is given (the day after an `--until`, a story's window of days around a date):
9999-12-31 made those overflow. So a day must be a real date within FIRST..LAST.
"""

from __future__ import annotations

import re
from datetime import date

FIRST = date(1800, 1, 1)
LAST = date(2199, 12, 31)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(value: object) -> date:
    """The date a YYYY-MM-DD text (or a date) names; ValueError saying what is wrong,
    worded to follow the name of the field ('--until must be ...')."""
    if isinstance(value, date):
        day = value
    elif isinstance(value, str) and _DAY.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"must be a real date (YYYY-MM-DD), got {value}") from None
    else:
        raise ValueError(f"must be a date as YYYY-MM-DD, got {value!r}")
    if not FIRST <= day <= LAST:
        raise ValueError(f"must be from {FIRST} to {LAST}, got {day}")
    return day
