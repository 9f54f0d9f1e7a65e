"""When people are at the support desk: settings.SUPPORT_STAFFED_HOURS, per weekday
(0 = Monday) a ("09:00", "18:00") pair in settings.SUPPORT_TIME_ZONE; a weekday left out is
not staffed, and "24:00" ends a shift at midnight. Nobody is turned away off shift (tickets
open around the clock); the acknowledgement says when people are back.

Every question (on_shift, next_staffed, staffed_before) is answered from
`staffed_period(day)`, the one place that knows a day's hours, so holidays and launch-week
hours (issue 15) change that function only.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

LOOK_AHEAD_DAYS = 14  # a desk closed longer than this is "no staffed hours"


def desk_zone() -> ZoneInfo:
    return ZoneInfo(settings.SUPPORT_TIME_ZONE)


def staffed_period(day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """The staffed hours of `day` (a date in the desk's zone) as aware datetimes, or None."""
    hours = settings.SUPPORT_STAFFED_HOURS.get(day.weekday())
    if not hours:
        return None
    zone = desk_zone()
    start, end = (_at(day, clock, zone) for clock in hours)
    return (start, end) if start < end else None


def on_shift(now: dt.datetime) -> bool:
    """Whether people answer tickets at `now`."""
    period = staffed_period(now.astimezone(desk_zone()).date())
    return period is not None and period[0] <= now < period[1]


def next_staffed(now: dt.datetime) -> dt.datetime | None:
    """When people are next at the desk: `now` itself while on shift, else the start of the
    next staffed hours (in the desk's zone); None if none come within LOOK_AHEAD_DAYS."""
    today = now.astimezone(desk_zone()).date()
    for offset in range(LOOK_AHEAD_DAYS + 1):
        period = staffed_period(today + dt.timedelta(days=offset))
        if period is None or period[1] <= now:
            continue
        return max(period[0], now)
    return None


def staffed_before(now: dt.datetime, *, hours: float) -> list[tuple[dt.datetime, dt.datetime]]:
    """The last `hours` of staffed time up to `now`, newest first, as (start, end) pieces:
    what a rate "per staffed hour" is measured over (at 03:00 on a Sunday, Friday's last
    hours). Shorter if the look-back finds fewer staffed hours."""
    left, pieces = dt.timedelta(hours=hours), []
    today = now.astimezone(desk_zone()).date()
    for offset in range(LOOK_AHEAD_DAYS + 1):
        period = staffed_period(today - dt.timedelta(days=offset))
        if period is None or period[0] >= now:
            continue
        end = min(period[1], now)
        start = max(period[0], end - left)
        pieces.append((start, end))
        left -= end - start
        if not left:
            break
    return pieces


def _at(day: dt.date, clock: str, zone: ZoneInfo) -> dt.datetime:
    if clock == "24:00":
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return dt.datetime.combine(day, dt.time.fromisoformat(clock), tzinfo=zone)
