"""Dates as people type them into the search page, and the date presets.

The page uses plain text fields, not the browser's date widget (which shows `mm/dd/yyyy` in
the browser's language and mangles typed years), so this is where typed dates are read:
ISO `2025-09-01`, the same in Arabic-Indic or Persian digits (`٢٠٢٥-٠٩-٠١`), `/` or `.` as
separators, and day-first `01/09/2025` as Arabic dates are usually written.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_SEPARATORS = re.compile(r"\s*[-/.\u060d\u2010-\u2015]\s*")  # ؍ and the dashes too
_YEAR_FIRST = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_YEAR_LAST = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")

# Preset id -> days back from today (None: no lower bound).
PRESETS: dict[str, int | None] = {"1d": 1, "7d": 7, "30d": 30, "1y": 365, "all": None}


def parse_day(text: str) -> str:
    """The ISO date (YYYY-MM-DD) that `text` names; ValueError if it names none."""
    plain = _SEPARATORS.sub("-", text.strip().translate(_DIGITS).replace("\u200f", ""))
    if match := _YEAR_FIRST.match(plain):
        year, month, day = match.groups()
    elif match := _YEAR_LAST.match(plain):
        day, month, year = match.groups()
    else:
        raise ValueError(f"not a date: {text!r}")
    return date(int(year), int(month), int(day)).isoformat()


def preset_range(preset: str, today: date) -> tuple[str, str]:
    """(since, until) of a preset ending today; since is "" for "all"."""
    days = PRESETS[preset]
    since = "" if days is None else (today - timedelta(days=days)).isoformat()
    return since, ("" if days is None else today.isoformat())
