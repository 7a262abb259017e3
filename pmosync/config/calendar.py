"""The portfolio calendar from configuration: the working time of date-only tools.

Jira and Airtable have no scheduler and no calendar of their own, so their dates are read on
the portfolio's: ``portfolio.working_days``, ``portfolio.working_hours`` and the public holidays
of ``portfolio.holiday_region`` (the ``holidays`` package). Pure: configuration in, a
:class:`~pmosync.analysis.calendar.WorkCalendar` out.
"""

from __future__ import annotations

from collections.abc import Iterable

from pmosync.analysis.calendar import WorkCalendar, holiday_calendar
from pmosync.config.models import WEEKDAYS, PortfolioConfig, working_interval


def portfolio_work_calendar(portfolio: PortfolioConfig, years: Iterable[int]) -> WorkCalendar:
    """The portfolio's working week with the region's holidays in ``years`` as non-working
    days. One working day is the total of ``working_hours``; a week that many times the
    number of working days.

    Raises:
        ValueError: the holiday region is unknown (the config model checks it on load, so
            this only happens for a model built without validation).
    """
    day = tuple(working_interval(text) for text in portfolio.working_hours)
    week = tuple(day if name in portfolio.working_days else () for name in WEEKDAYS)
    per_day = sum(end - start for start, end in day)
    base = WorkCalendar(
        name=f"{portfolio.name} calendar",
        week=week,
        minutes_per_day=per_day,
        minutes_per_week=per_day * len(portfolio.working_days),
    )
    if portfolio.holiday_region is None:
        return base
    return holiday_calendar(
        portfolio.holiday_region,
        years,
        base=base,
        name=f"{portfolio.name} calendar ({portfolio.holiday_region.upper()})",
    )
