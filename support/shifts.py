"""When people are at the support desk: settings.SUPPORT_STAFFED_HOURS, per weekday
(0 = Monday) a ("09:00", "18:00") pair in settings.SUPPORT_TIME_ZONE; a weekday left out is
not staffed, and "24:00" ends a shift at midnight. Korean public holidays (the `holidays`
library, substitute holidays included) are not staffed, and a campaign's round-the-clock
days (support.models.RoundTheClock) are staffed 24 hours, holidays and weekends too. Nobody
is turned away off shift (tickets open around the clock); the acknowledgement says when
people are back, and the SLA clock (support.sla) counts staffed time only.

Every question (on_shift, next_staffed, staffed_before, add_staffed, staffed_between) is
answered from `Calendar.period(day)`, the one place that knows a day's hours. A Calendar
reads the round-the-clock days once (a handful of rows), so a caller that asks about many
days or tickets makes one and passes it on.
"""

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings

from .models import RoundTheClock

LOOK_AHEAD_DAYS = 14  # a desk closed longer than this is "no staffed hours"
HOLIDAY_COUNTRY = "KR"
# How far the SLA clock looks for staffed time before it calls a target unreachable.
CLOCK_HORIZON_DAYS = 400
Period = tuple[dt.datetime, dt.datetime]


def desk_zone() -> ZoneInfo:
    return ZoneInfo(settings.SUPPORT_TIME_ZONE)


@functools.lru_cache(maxsize=16)
def _public_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(HOLIDAY_COUNTRY, years=year)


def is_public_holiday(day: dt.date) -> bool:
    return day in _public_holidays(day.year)


class Calendar:
    """The desk's hours as of the moment it is made."""

    def __init__(self) -> None:
        self.zone = desk_zone()
        self.round_the_clock = list(RoundTheClock.objects.values_list("first_day", "last_day"))
        self._periods: dict[dt.date, Period | None] = {}  # the clock of thousands of tickets

    def period(self, day: dt.date) -> Period | None:
        """The staffed hours of `day` (a date in the desk's zone) as aware datetimes, or
        None."""
        if day not in self._periods:
            self._periods[day] = self._period(day)
        return self._periods[day]

    def _period(self, day: dt.date) -> Period | None:
        if any(first <= day <= last for first, last in self.round_the_clock):
            return _at(day, "00:00", self.zone), _at(day, "24:00", self.zone)
        hours = settings.SUPPORT_STAFFED_HOURS.get(day.weekday())
        if not hours or is_public_holiday(day):
            return None
        start, end = (_at(day, clock, self.zone) for clock in hours)
        return (start, end) if start < end else None

    def periods_from(self, moment: dt.datetime, days: int):
        """Staffed periods ending after `moment`, oldest first, over `days` days."""
        today = moment.astimezone(self.zone).date()
        for offset in range(days + 1):
            period = self.period(today + dt.timedelta(days=offset))
            if period is not None and period[1] > moment:
                yield period


def staffed_period(day: dt.date) -> Period | None:
    return Calendar().period(day)


def on_shift(now: dt.datetime) -> bool:
    """Whether people answer tickets at `now`."""
    period = staffed_period(now.astimezone(desk_zone()).date())
    return period is not None and period[0] <= now < period[1]


def next_staffed(now: dt.datetime) -> dt.datetime | None:
    """When people are next at the desk: `now` itself while on shift, else the start of the
    next staffed hours (in the desk's zone); None if none come within LOOK_AHEAD_DAYS."""
    period = next(Calendar().periods_from(now, LOOK_AHEAD_DAYS), None)
    return None if period is None else max(period[0], now)


def staffed_before(now: dt.datetime, *, hours: float) -> list[Period]:
    """The last `hours` of staffed time up to `now`, newest first, as (start, end) pieces:
    what a rate "per staffed hour" is measured over (at 03:00 on a Sunday, Friday's last
    hours). Shorter if the look-back finds fewer staffed hours."""
    calendar, left, pieces = Calendar(), dt.timedelta(hours=hours), []
    today = now.astimezone(calendar.zone).date()
    for offset in range(LOOK_AHEAD_DAYS + 1):
        period = calendar.period(today - dt.timedelta(days=offset))
        if period is None or period[0] >= now:
            continue
        end = min(period[1], now)
        start = max(period[0], end - left)
        pieces.append((start, end))
        left -= end - start
        if not left:
            break
    return pieces


def add_staffed(
    start: dt.datetime, staffed: dt.timedelta, *, calendar: Calendar
) -> dt.datetime | None:
    """The moment `staffed` of staffed time after `start` has passed (`start` itself for
    none); None if the desk has not that much within CLOCK_HORIZON_DAYS."""
    if staffed <= dt.timedelta():
        return start
    left = staffed
    for period_start, period_end in calendar.periods_from(start, CLOCK_HORIZON_DAYS):
        begin = max(period_start, start)
        if left <= period_end - begin:
            return begin + left
        left -= period_end - begin
    return None


def staffed_between(start: dt.datetime, end: dt.datetime, *, calendar: Calendar) -> dt.timedelta:
    """Staffed time from `start` to `end`."""
    total = dt.timedelta()
    if end <= start:
        return total
    days = (end.astimezone(calendar.zone).date() - start.astimezone(calendar.zone).date()).days
    for period_start, period_end in calendar.periods_from(start, days):
        total += max(min(period_end, end) - max(period_start, start), dt.timedelta())
    return total


def _at(day: dt.date, clock: str, zone: ZoneInfo) -> dt.datetime:
    if clock == "24:00":
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return dt.datetime.combine(day, dt.time.fromisoformat(clock), tzinfo=zone)
