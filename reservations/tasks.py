from celery import shared_task

from . import lines


@shared_task
def refresh_line_counts() -> int:
    """Beat, every 10 s: the line counts of variants with new arrivals or departures are
    brought up to date, so a queue standing reads counters, not the whole line. Returns how
    many variants were refreshed; a repeat finds nothing to do."""
    return len(lines.refresh_line_counts())
