"""Working-time calendars with MS Project's semantics, fast enough for CPM on 100k tasks.

A ``WorkCalendar`` is a week of working intervals (Monday first, minutes from midnight) plus
per-date exceptions (a date's own intervals; ``()`` is a non-working day). Every question is
answered through one idea: the *working-minute offset* of an instant, i.e. the number of working
minutes between a fixed epoch and that instant. Offsets are monotonic, so adding work is adding
numbers, and the two MS Project conventions fall out of the inverse mapping:

* a **start** is reported at the next working instant (Friday 17:00 + 0 is Monday 08:00);
* a **finish** is reported at the end of the working period it closes (Friday 17:00, not
  Monday 08:00).

The offset of the start of each day is kept in a dense per-calendar table that grows on demand,
so both directions are a list index or a ``bisect`` plus a walk over one day's few intervals.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

__all__ = [
    "Intervals",
    "WorkCalendar",
    "day_finish",
    "combine_calendars",
    "day_start",
    "derive_calendar",
    "holiday_calendar",
    "standard_calendar",
]

Intervals = tuple[tuple[int, int], ...]

_STANDARD_DAY: Intervals = ((480, 720), (780, 1020))
# A Monday: offsets are counted from its midnight. Any Monday would do; a recent one keeps the
# numbers small enough to read while debugging.
_EPOCH = date(2000, 1, 3).toordinal()
# How far the day table may grow looking for working time before the calendar is declared empty.
_MAX_SEARCH_DAYS = 366 * 50
_DAY_CHUNK = 512


def _check_intervals(intervals: Iterable[Sequence[int]], what: str) -> Intervals:
    out: list[tuple[int, int]] = []
    last = 0
    for pair in intervals:
        start, end = int(pair[0]), int(pair[1])
        if not 0 <= start < end <= 1440 or start < last:
            raise ValueError(
                f"{what}: working intervals must be ascending within 0..1440, got {pair}"
            )
        out.append((start, end))
        last = end
    return tuple(out)


@dataclass(frozen=True)
class WorkCalendar:
    """A working-time calendar; all instants are naive local ``datetime`` values."""

    name: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    exceptions: Mapping[date, tuple[tuple[int, int], ...]] = field(default_factory=dict, hash=False)
    minutes_per_day: int = 480
    minutes_per_week: int = 2400
    days_per_month: int = 20
    # Lazily built lookup tables; not part of the value.
    _state: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError(f"calendar {self.name!r}: week needs 7 days (Monday first)")
        week = tuple(
            _check_intervals(day, f"calendar {self.name!r} weekday {i}")
            for i, day in enumerate(self.week)
        )
        exceptions = {
            d: _check_intervals(iv, f"calendar {self.name!r} exception {d}")
            for d, iv in self.exceptions.items()
        }
        object.__setattr__(self, "week", week)
        object.__setattr__(self, "exceptions", exceptions)
        day_minutes = [sum(e - s for s, e in day) for day in week]
        prefix = [0]
        for m in day_minutes:
            prefix.append(prefix[-1] + m)
        exc_ords = sorted(d.toordinal() for d in exceptions)
        exc_delta_prefix = [0]
        for o in exc_ords:
            own = sum(e - s for s, e in exceptions[date.fromordinal(o)])
            exc_delta_prefix.append(exc_delta_prefix[-1] + own - day_minutes[(o - _EPOCH) % 7])
        self._state.update(
            day_minutes=day_minutes,
            prefix=prefix,
            week_total=prefix[-1],
            exc_ords=exc_ords,
            exc_delta=exc_delta_prefix,
            exc_by_ord={d.toordinal(): iv for d, iv in exceptions.items()},
            lo=None,
            cum=[],
        )

    # -- the day table -----------------------------------------------------------------------

    def _day_offset(self, o: int) -> int:
        """Working minutes from the epoch to the midnight starting day ordinal ``o``."""
        st = self._state
        weeks, wd = divmod(o - _EPOCH, 7)
        value: int = weeks * st["week_total"] + st["prefix"][wd]
        if st["exc_ords"]:
            value += st["exc_delta"][bisect.bisect_left(st["exc_ords"], o)]
        return value

    def _intervals(self, o: int) -> Intervals:
        iv = self._state["exc_by_ord"].get(o)
        if iv is not None:
            return iv  # type: ignore[no-any-return]
        return self.week[(o - _EPOCH) % 7]

    def _ensure(self, o_lo: int, o_hi: int) -> None:
        """Make the table cover day ordinals ``o_lo..o_hi`` (inclusive)."""
        st = self._state
        lo = st["lo"]
        cum: list[int] = st["cum"]
        if lo is None:
            lo = o_lo - _DAY_CHUNK
            cum = [self._day_offset(o) for o in range(lo, o_hi + _DAY_CHUNK + 1)]
            st["lo"], st["cum"] = lo, cum
            return
        if o_lo < lo:
            new_lo = o_lo - _DAY_CHUNK - (len(cum) // 2)
            cum[:0] = [self._day_offset(o) for o in range(new_lo, lo)]
            st["lo"] = lo = new_lo
        hi = lo + len(cum) - 1
        if o_hi > hi:
            cum.extend(
                self._day_offset(o) for o in range(hi + 1, o_hi + _DAY_CHUNK + len(cum) // 2 + 1)
            )

    # -- offsets -----------------------------------------------------------------------------

    def to_work(self, t: datetime) -> float:
        """Working minutes from the epoch to ``t`` (an instant in non-working time maps to the
        same offset as the previous working finish and the next working start)."""
        o = t.toordinal()
        st = self._state
        lo = st["lo"]
        if lo is None or not lo <= o < lo + len(st["cum"]) - 1:
            self._ensure(o, o + 1)
            lo = st["lo"]
        base: float = st["cum"][o - lo]
        minute = t.hour * 60 + t.minute + (t.second + t.microsecond / 1e6) / 60
        for s, e in self._intervals(o):
            if minute <= s:
                break
            base += (minute if minute < e else e) - s
        return base

    def from_work(self, m: float, *, at_start: bool) -> datetime:
        """The instant at working offset ``m``: the next working start (``at_start``) or the end
        of the working period that reaches it (a finish)."""
        st = self._state
        if st["week_total"] == 0 and not any(st["exc_by_ord"].values()):
            raise ValueError(f"calendar {self.name!r} has no working time")
        searched = 0
        while True:
            cum: list[int] = st["cum"]
            lo = st["lo"]
            if lo is None:
                guess = _EPOCH + int(m // max(st["week_total"], 1)) * 7
                self._ensure(guess, guess + 1)
                continue
            if (cum[0] <= m < cum[-1]) if at_start else (cum[0] < m <= cum[-1]):
                break
            searched += _DAY_CHUNK
            if searched > _MAX_SEARCH_DAYS:
                raise ValueError(f"calendar {self.name!r}: no working time near offset {m}")
            if m < cum[0] or (not at_start and m == cum[0]):
                self._ensure(lo - _DAY_CHUNK, lo)
            else:
                self._ensure(lo + len(cum) - 1, lo + len(cum) - 1 + _DAY_CHUNK)
        i = bisect.bisect_right(cum, m) - 1 if at_start else bisect.bisect_left(cum, m) - 1
        o = lo + i
        rest = m - cum[i]
        for s, e in self._intervals(o):
            length = e - s
            if rest < length or (not at_start and rest <= length):
                return _at(o, s + rest)
            rest -= length
        # Only reachable through float noise at a day's last minute.
        last = self._intervals(o)[-1][1]
        return _at(o, last)

    # -- the public operations ---------------------------------------------------------------

    def add_work(self, t: datetime, minutes: float) -> datetime:
        """The instant ``minutes`` working minutes after ``t`` (before it when negative).

        Going forward lands on a finish (17:00, not next 08:00); going backward, or adding
        nothing, lands on a start.
        """
        return self.from_work(self.to_work(t) + minutes, at_start=minutes <= 0)

    def work_between(self, a: datetime, b: datetime) -> float:
        """Signed working minutes from ``a`` to ``b``."""
        return self.to_work(b) - self.to_work(a)

    def next_work_start(self, t: datetime) -> datetime:
        """``t`` if it is working time, else the start of the next working period."""
        return self.from_work(self.to_work(t), at_start=True)

    def prev_work_finish(self, t: datetime) -> datetime:
        """``t`` if working time is just before it, else the end of the previous working period."""
        return self.from_work(self.to_work(t), at_start=False)

    def is_working_day(self, d: date) -> bool:
        return bool(self._intervals(d.toordinal()))

    def intervals_on(self, d: date) -> Intervals:
        """The working intervals of one date (its exception's if it has one)."""
        return self._intervals(d.toordinal())

    def with_exceptions(
        self, exceptions: Mapping[date, Intervals], *, name: str | None = None
    ) -> WorkCalendar:
        """This calendar plus more exceptions (the new ones win on the same date)."""
        return WorkCalendar(
            name=name or self.name,
            week=self.week,
            exceptions={**self.exceptions, **exceptions},
            minutes_per_day=self.minutes_per_day,
            minutes_per_week=self.minutes_per_week,
            days_per_month=self.days_per_month,
        )


def _at(o: int, minute: float) -> datetime:
    whole = int(minute)
    frac = minute - whole
    seconds = round(frac * 60, 6)
    return datetime.fromordinal(o) + timedelta(minutes=whole, seconds=seconds)


def standard_calendar(name: str = "Standard") -> WorkCalendar:
    """MS Project's Standard calendar: Monday-Friday 08:00-12:00 and 13:00-17:00."""
    return WorkCalendar(name=name, week=(_STANDARD_DAY,) * 5 + ((), ()))


def derive_calendar(
    base: WorkCalendar,
    *,
    name: str,
    week: Sequence[Intervals | None] | None = None,
    exceptions: Mapping[date, Intervals] | None = None,
    minutes_per_day: int | None = None,
    minutes_per_week: int | None = None,
    days_per_month: int | None = None,
) -> WorkCalendar:
    """A derived calendar, as MS Project builds one: the base's week and exceptions, with this
    calendar's own weekdays (``None`` = as the base) and exceptions (winning on their dates)."""
    own_week = list(base.week)
    if week is not None:
        if len(week) != 7:
            raise ValueError(f"calendar {name!r}: week needs 7 entries (Monday first)")
        for i, day in enumerate(week):
            if day is not None:
                own_week[i] = day
    return WorkCalendar(
        name=name,
        week=tuple(own_week),
        exceptions={**base.exceptions, **(exceptions or {})},
        minutes_per_day=base.minutes_per_day if minutes_per_day is None else minutes_per_day,
        minutes_per_week=base.minutes_per_week if minutes_per_week is None else minutes_per_week,
        days_per_month=base.days_per_month if days_per_month is None else days_per_month,
    )


def _merge(a: Intervals, b: Intervals, union: bool) -> Intervals:
    if union:
        out: list[tuple[int, int]] = []
        for s, e in sorted(a + b):
            if out and s <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], e))
            else:
                out.append((s, e))
        return tuple(out)
    both: list[tuple[int, int]] = []
    for s1, e1 in a:
        for s2, e2 in b:
            s, e = max(s1, s2), min(e1, e2)
            if s < e:
                both.append((s, e))
    return tuple(sorted(both))


def combine_calendars(
    calendars: Sequence[WorkCalendar], *, name: str, union: bool = True
) -> WorkCalendar:
    """The working time of any (``union``) or all (intersection) of ``calendars``.

    MS Project schedules a task with resources on the time any assigned resource works, cut to
    the task's own calendar when it has one.
    """
    if not calendars:
        raise ValueError("combine_calendars needs at least one calendar")
    first = calendars[0]
    week = list(first.week)
    for cal in calendars[1:]:
        week = [_merge(w, o, union) for w, o in zip(week, cal.week, strict=True)]
    dates = {d for cal in calendars for d in cal.exceptions}
    exceptions: dict[date, Intervals] = {}
    for d in dates:
        day = first.intervals_on(d)
        for cal in calendars[1:]:
            day = _merge(day, cal.intervals_on(d), union)
        exceptions[d] = day
    return WorkCalendar(
        name=name,
        week=tuple(week),
        exceptions=exceptions,
        minutes_per_day=first.minutes_per_day,
        minutes_per_week=first.minutes_per_week,
        days_per_month=first.days_per_month,
    )


def holiday_calendar(
    region: str | None,
    years: Iterable[int],
    *,
    base: WorkCalendar | None = None,
    name: str | None = None,
) -> WorkCalendar:
    """``base`` (default: Standard) with the public holidays of ``region`` as non-working days.

    ``region`` is ``country[-subdivision]`` as the ``holidays`` package spells them: "GB-ENG",
    "US", "US-CA", "DE-BY". ``None`` gives ``base`` unchanged.

    Raises:
        ValueError: the region is not one the ``holidays`` package knows.
    """
    base = base or standard_calendar()
    if region is None:
        return base if name is None else derive_calendar(base, name=name)
    import holidays

    country, _, subdiv = region.strip().partition("-")
    hint = (
        'valid ones are listed by `python -c "import holidays; '
        'print(holidays.list_supported_countries())"` (country code, then an optional '
        "-subdivision such as GB-ENG or DE-BY)"
    )
    supported = holidays.list_supported_countries()
    if country.upper() not in supported:
        raise ValueError(f"unknown holiday region {region!r}: {hint}")
    if subdiv and subdiv.upper() not in {s.upper() for s in supported[country.upper()]}:
        raise ValueError(
            f"unknown subdivision {subdiv!r} of {country.upper()} in {region!r}: {hint}"
        )
    try:
        days = holidays.country_holidays(
            country.upper(), subdiv=subdiv.upper() or None, years=sorted(set(years))
        )
    except NotImplementedError as exc:
        raise ValueError(f"unknown holiday region {region!r}: {hint}") from exc
    exceptions: dict[date, Intervals] = {d: () for d in days}
    return base.with_exceptions(exceptions, name=name or f"{base.name} ({region.upper()})")


def day_start(cal: WorkCalendar, d: date) -> datetime:
    """For a date-only start (Jira, Airtable): the start of that working day (or the next one)."""
    return cal.next_work_start(datetime(d.year, d.month, d.day))


def day_finish(cal: WorkCalendar, d: date) -> datetime:
    """For an inclusive date-only due/end date: the end of that working day (or the previous
    working day's end when ``d`` is not worked)."""
    return cal.prev_work_finish(datetime(d.year, d.month, d.day) + timedelta(days=1))
