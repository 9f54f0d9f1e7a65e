"""Changelist filters that refuse, as bad filters, values the database or datetime() cannot
take.

Django's admin hands a changelist's filter values (?status__exact=..., a date hierarchy's
?created_at__year=...) on as typed, and two kinds fail past its own handling of bad
filters, as a 500: a NUL, which PostgreSQL refuses in a text comparison when the query runs
(the search box's form already refuses one), and a date-hierarchy drill-down that
datetime() cannot hold (a year of twenty digits overflows; the year 9999 has no next
year to end its range). Refused here, they get the admin's answer to any other bad filter:
the list unfiltered, with ?e=1 and a note.
"""

import datetime as dt

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList

# The drill-down's range ends a year, month or day after its start: in datetime()'s last
# year that end does not exist.
YEARS = range(dt.MINYEAR, dt.MAXYEAR)


class CheckedFiltersChangeList(ChangeList):
    def get_filters(self, request):
        # Not the search term, ordering or page (IGNORED_PARAMS): the search form has its own
        # error for a NUL, the others are not compared in SQL.
        for name, values in self.get_filters_params().items():
            if any("\x00" in value for value in values):
                raise IncorrectLookupParameters(f"{name}: a NUL character")
        if self.date_hierarchy:
            self._check_drill_down()
        return super().get_filters(request)

    def _check_drill_down(self) -> None:
        for part, digits in (("year", 4), ("month", 2), ("day", 2)):
            name = f"{self.date_hierarchy}__{part}"
            for value in self.filter_params.get(name, []):
                if not (value.isascii() and value.isdigit() and len(value) <= digits):
                    raise IncorrectLookupParameters(f"{name}: not a {part}")
                if part == "year" and int(value) not in YEARS:
                    raise IncorrectLookupParameters(f"{name}: out of range")


class CheckedFilters:
    """ModelAdmin mixin: the changelist refuses filter values it could not run (above)."""

    def get_changelist(self, request, **kwargs):
        return CheckedFiltersChangeList
