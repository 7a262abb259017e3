"""Working-time calendars: MS Project's conventions, exceptions, derived and holiday calendars."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmosync.analysis.calendar import (
    WorkCalendar,
    combine_calendars,
    day_finish,
    day_start,
    derive_calendar,
    holiday_calendar,
    standard_calendar,
)

STD = standard_calendar()
FRI = date(2026, 11, 27)  # a Friday
MON = date(2026, 11, 30)
NIGHT = WorkCalendar(
    name="Night Shift",
    week=(
        ((1380, 1440),),
        ((0, 180), (240, 480), (1380, 1440)),
        ((0, 180), (240, 480), (1380, 1440)),
        ((0, 180), (240, 480), (1380, 1440)),
        ((0, 180), (240, 480), (1380, 1440)),
        ((0, 180), (240, 480)),
        (),
    ),
)


def at(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hh, mm)


def test_standard_week() -> None:
    assert STD.week[0] == ((480, 720), (780, 1020))
    assert STD.week[5] == STD.week[6] == ()
    assert (STD.minutes_per_day, STD.minutes_per_week, STD.days_per_month) == (480, 2400, 20)


def test_a_finish_stays_at_the_end_of_its_period_and_a_start_moves_to_the_next() -> None:
    assert STD.add_work(at(FRI, 8), 480) == at(FRI, 17)
    assert STD.next_work_start(at(FRI, 17)) == at(MON, 8)
    assert STD.prev_work_finish(at(MON, 8)) == at(FRI, 17)
    assert STD.add_work(at(FRI, 17), 0) == at(MON, 8)
    assert STD.add_work(at(FRI, 11), 120) == at(FRI, 14)  # over the lunch break
    assert STD.add_work(at(FRI, 12, 30), 30) == at(FRI, 13, 30)
    assert STD.next_work_start(at(FRI, 12, 30)) == at(FRI, 13)
    assert STD.prev_work_finish(at(FRI, 12, 30)) == at(FRI, 12)


def test_negative_minutes_go_backwards_to_a_start() -> None:
    assert STD.add_work(at(MON, 9), -120) == at(FRI, 16)
    assert STD.add_work(at(MON, 8), -480) == at(FRI, 8)


def test_work_between_is_signed_working_minutes() -> None:
    assert STD.work_between(at(FRI, 8), at(MON + timedelta(days=4), 17)) == 2880
    assert STD.work_between(at(MON, 8), at(FRI, 17)) == 0  # a weekend holds no work
    assert STD.work_between(at(MON, 17), at(FRI, 8)) == -960  # all of Friday and Monday
    assert STD.work_between(at(MON, 10), at(FRI, 16)) == -180
    assert STD.work_between(at(FRI, 8), at(FRI, 8, 30)) == 30


def test_seconds_and_fractions_of_a_minute() -> None:
    assert STD.add_work(at(FRI, 8), 0.5) == at(FRI, 8) + timedelta(seconds=30)
    assert STD.work_between(at(FRI, 8), at(FRI, 9) + timedelta(seconds=24)) == pytest.approx(60.4)


def test_non_working_exception_day() -> None:
    cal = STD.with_exceptions({MON: ()})
    assert cal.next_work_start(at(FRI, 17)) == at(MON + timedelta(days=1), 8)
    assert cal.add_work(at(FRI, 8), 960) == at(MON + timedelta(days=1), 17)
    assert not cal.is_working_day(MON)


def test_working_exception_with_its_own_hours() -> None:
    saturday = FRI + timedelta(days=1)
    cal = STD.with_exceptions({saturday: ((540, 660),)})
    assert cal.next_work_start(at(FRI, 17)) == at(saturday, 9)
    assert cal.add_work(at(FRI, 16), 120) == at(saturday, 10)
    assert cal.work_between(at(FRI, 8), at(MON, 8)) == 480 + 120
    assert cal.intervals_on(saturday) == ((540, 660),)


def test_night_shift_runs_across_midnight() -> None:
    assert NIGHT.next_work_start(at(MON, 8)) == at(MON, 23)
    assert NIGHT.add_work(at(MON, 23), 120) == at(MON + timedelta(days=1), 1)
    assert NIGHT.add_work(at(MON, 23), 480) == at(MON + timedelta(days=1), 8)


def test_derived_calendar_overrides_its_base() -> None:
    base = STD.with_exceptions({MON: ()})
    derived = derive_calendar(
        base,
        name="Part time",
        week=(None, None, None, None, (), None, None),  # no Fridays
        exceptions={MON + timedelta(days=1): ((480, 600),)},
    )
    assert derived.week[4] == () and derived.week[0] == STD.week[0]
    assert not derived.is_working_day(MON)  # the base's exception is inherited
    assert derived.intervals_on(MON + timedelta(days=1)) == ((480, 600),)
    assert derived.add_work(at(date(2026, 11, 26), 8), 600) == at(MON + timedelta(days=1), 10)


def test_union_and_intersection_of_calendars() -> None:
    both = combine_calendars([STD, NIGHT], name="any")
    assert both.intervals_on(MON + timedelta(days=1)) == (
        (0, 180),
        (240, 720),
        (780, 1020),
        (1380, 1440),
    )
    assert (
        combine_calendars([STD, NIGHT], name="all", union=False).intervals_on(
            MON + timedelta(days=1)
        )
        == ((240, 480),)[:0]
    )  # the night shift ends at 08:00, the day starts then: no overlap


def test_holiday_calendar_uses_the_regions_public_holidays() -> None:
    cal = holiday_calendar("GB-ENG", [2026])
    assert not cal.is_working_day(date(2026, 12, 25))
    assert not cal.is_working_day(date(2026, 12, 28))  # Boxing Day, observed
    assert cal.add_work(at(date(2026, 12, 24), 8), 960) == at(date(2026, 12, 29), 17)
    assert cal.name == "Standard (GB-ENG)"
    us = holiday_calendar("US", [2026], name="US")
    assert not us.is_working_day(date(2026, 7, 3))  # Independence Day observed
    assert us.is_working_day(date(2026, 12, 28))
    bavaria = holiday_calendar("DE-BY", [2026])
    assert not bavaria.is_working_day(date(2026, 1, 6))  # Epiphany, Bavaria only
    assert holiday_calendar("DE", [2026]).is_working_day(date(2026, 1, 6))


def test_holiday_calendar_keeps_a_base_calendars_week() -> None:
    cal = holiday_calendar("US", [2026], base=NIGHT)
    assert cal.week == NIGHT.week and not cal.is_working_day(date(2026, 12, 25))
    assert holiday_calendar(None, [2026]) == STD


@pytest.mark.parametrize("region", ["XX", "GB-XYZ", ""])
def test_unknown_region_names_it_and_how_to_list_valid_ones(region: str) -> None:
    with pytest.raises(ValueError, match=r"list_supported_countries") as info:
        holiday_calendar(region, [2026])
    assert repr(region.split("-")[-1]) in str(info.value)


def test_date_only_sources_start_and_end_of_working_day() -> None:
    assert day_start(STD, FRI) == at(FRI, 8)
    assert day_finish(STD, FRI) == at(FRI, 17)
    saturday = FRI + timedelta(days=1)
    assert day_start(STD, saturday) == at(MON, 8)
    assert day_finish(STD, saturday) == at(FRI, 17)


def test_bad_calendars_are_refused() -> None:
    with pytest.raises(ValueError, match="7 days"):
        WorkCalendar(name="short", week=((),) * 6)
    with pytest.raises(ValueError, match="ascending"):
        WorkCalendar(name="bad", week=(((600, 500),),) + ((),) * 6)
    empty = WorkCalendar(name="never", week=((),) * 7)
    with pytest.raises(ValueError, match="no working time"):
        empty.add_work(at(FRI, 8), 60)


def test_far_dates_and_long_spans() -> None:
    assert STD.add_work(at(date(1990, 1, 1), 8), 480 * 5 * 52) == at(
        date(1990, 12, 28), 17
    )  # 52 weeks on
    assert STD.add_work(at(date(2100, 1, 4), 8), -480) == at(date(2100, 1, 1), 8)


moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


@settings(max_examples=300, deadline=None)
@given(t=moments, minutes=st.integers(min_value=-20000, max_value=20000))
def test_add_work_and_work_between_agree(t: datetime, minutes: int) -> None:
    for cal in (STD, NIGHT):
        moved = cal.add_work(t, minutes)
        expected = minutes if minutes else 0
        if minutes == 0:
            assert cal.work_between(t, moved) == 0
        elif minutes > 0:
            assert cal.work_between(cal.next_work_start(t), moved) == expected
        else:
            assert cal.work_between(cal.prev_work_finish(t), moved) == expected


@settings(max_examples=300, deadline=None)
@given(t=moments)
def test_next_start_and_previous_finish_bracket_an_instant(t: datetime) -> None:
    start, finish = STD.next_work_start(t), STD.prev_work_finish(t)
    assert finish <= t <= start
    assert STD.work_between(finish, start) == 0
