"""Source health: notice a silently broken outlet from its crawl history.

Two signs, both read from `crawl_runs` (scheduled and hand-started crawls alike):
- quiet: no new articles for much longer than the outlet's usual gap between crawls that
  brought some (a changed feed URL or article pattern looks exactly like this);
- errors: the latest crawl's error rate (403s, timeouts, pages with no text or no date)
  jumped well above the outlet's usual rate (a block, a redesign).
"""

from __future__ import annotations

from datetime import UTC, datetime
from statistics import median

from indexer.archive_base import ArchiveStore

HISTORY = 50  # recent finished crawls per outlet that set the baseline
QUIET_FACTOR = 2.0  # quiet when the silence lasts this many usual gaps
MIN_PRODUCTIVE = 3  # crawls with new articles needed before "usual" means anything
ERROR_RATE = 0.25  # a latest rate at least this high ...
ERROR_JUMP = 0.20  # ... and this far above the usual rate is flagged


def _human(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min" if minutes else f"{int(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def _rate(pages: int, errors: dict[str, int]) -> float:
    count = sum(errors.values())
    return min(1.0, count / max(pages, 1))


def outlet_health(archive: ArchiveStore, outlet: str, now: datetime | None = None) -> list[str]:
    """The reasons an outlet looks broken (empty when it looks healthy)."""
    now = now or datetime.now(UTC)
    runs = [
        (datetime.fromisoformat(r["started_at"]), r["pages"], r["new_articles"], r["errors"])
        for r in reversed(archive.outlet_runs(outlet, HISTORY))
    ]
    reasons = []
    productive = [started for started, _, new, _ in runs if new > 0]
    if len(productive) >= MIN_PRODUCTIVE:
        usual = median(
            b - a for a, b in zip(productive, productive[1:], strict=False)
        ).total_seconds()
        silence = (now - productive[-1]).total_seconds()
        empty_since = sum(1 for started, *_ in runs if started > productive[-1])
        if empty_since >= 2 and usual > 0 and silence > QUIET_FACTOR * usual:
            reasons.append(
                f"no new articles for {_human(silence)} (usually every {_human(usual)}; "
                f"{empty_since} crawls since)"
            )
    if runs:
        _, pages, _, errors = runs[-1]
        rate = _rate(pages, errors)
        before = [_rate(p, e) for _, p, _, e in runs[:-1]]
        usual_rate = median(before) if before else 0.0
        if rate >= ERROR_RATE and rate >= usual_rate + ERROR_JUMP:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(errors.items(), key=lambda x: -x[1]))
            reasons.append(
                f"error rate {rate:.0%} in the last crawl (usually {usual_rate:.0%}): {kinds}"
            )
    return reasons


def source_health(
    archive: ArchiveStore, outlets: list[str] | None = None, now: datetime | None = None
) -> dict[str, list[str]]:
    """Flagged outlets with their reasons; all crawled outlets unless `outlets` is given."""
    if outlets is None:
        outlets = archive.run_outlets()
    flagged = {o: outlet_health(archive, o, now) for o in sorted(outlets)}
    return {o: reasons for o, reasons in flagged.items() if reasons}
