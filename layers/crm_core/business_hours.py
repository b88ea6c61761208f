"""Business-hours arithmetic: when ``minutes`` of working time have passed since a moment, for a working
week given as a time zone, the working days and one daily window (``from`` to ``to`` in local wall time).

Pure: no I/O, no clock. Times go in and come out as aware datetimes in UTC. Working time is counted in
real elapsed minutes (a window that spans a daylight-saving change is an hour longer or shorter that
day); each day's window is placed in the zone's wall time of that day, so 09:00 stays 09:00 across a
change. A wall time that does not exist on a day (the hour skipped in spring) is read with the offset
before the change, as ``zoneinfo`` does (PEP 495, fold=0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
END_OF_DAY = "24:00"  # a window may run to midnight
# A sum that needs more than this many days of windows is refused rather than computed (a policy whose
# targets do not fit is refused when it is written: ``minutes_per_week``).
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class BusinessHours:
    timezone: str  # an IANA zone name: "Europe/Berlin"
    days: tuple[str, ...]  # of DAY_NAMES
    start: str  # "HH:MM"
    end: str  # "HH:MM" after start, or "24:00"

    @classmethod
    def of(cls, value: dict[str, object] | None) -> BusinessHours | None:
        """From the API's ``{"timezone", "days", "from", "to"}``; None (round the clock) for None."""
        if not value:
            return None
        return cls(
            str(value["timezone"]),
            tuple(str(day) for day in value["days"]),  # type: ignore[attr-defined]
            str(value["from"]),
            str(value["to"]),
        )

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's working window in UTC, or None for a day off."""
        if DAY_NAMES[day.weekday()] not in self.days:
            return None
        zone = ZoneInfo(self.timezone)
        opens = datetime.combine(day, _clock(self.start), tzinfo=zone)
        if self.end == END_OF_DAY:
            closes = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
        else:
            closes = datetime.combine(day, _clock(self.end), tzinfo=zone)
        return opens.astimezone(UTC), closes.astimezone(UTC)

    def minutes_per_week(self) -> int:
        """Working minutes in a week without a clock change."""
        start = _minutes_of(self.start)
        end = 24 * 60 if self.end == END_OF_DAY else _minutes_of(self.end)
        return max(0, end - start) * len(set(self.days))


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _minutes_of(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def add_business_minutes(start: datetime, minutes: float, hours: BusinessHours | None) -> datetime:
    """The moment ``minutes`` of working time have passed since ``start`` (aware), in UTC. ``hours`` None:
    round the clock (plain elapsed minutes). Zero minutes is ``start`` itself. A start outside the
    windows counts from the next window's opening; a sum ending exactly at a window's close ends there."""
    begin = start.astimezone(UTC)
    if minutes <= 0:
        return begin
    if hours is None:
        return begin + timedelta(minutes=minutes)
    remaining = timedelta(minutes=minutes)
    day = begin.astimezone(ZoneInfo(hours.timezone)).date() - timedelta(
        days=1
    )  # a window from the day before
    for _ in range(MAX_DAYS):
        window = hours.window(day)
        day += timedelta(days=1)
        if window is None:
            continue
        opens, closes = max(window[0], begin), window[1]
        if closes <= opens:
            continue
        if closes - opens >= remaining:
            return opens + remaining
        remaining -= closes - opens
    raise ValueError(f"{minutes} business minutes do not fit in {MAX_DAYS} days of these hours")


def business_time_between(start: datetime, end: datetime, hours: BusinessHours | None) -> timedelta:
    """The working time between ``start`` and ``end`` (aware; nothing when ``end`` is not after ``start``):
    the parts of the windows that fall between them. ``hours`` None: round the clock (the elapsed time).
    ``add_business_minutes(start, result)`` lands on ``end`` when ``end`` is within a window."""
    begin, finish = start.astimezone(UTC), end.astimezone(UTC)
    if finish <= begin:
        return timedelta(0)
    if hours is None:
        return finish - begin
    total = timedelta(0)
    day = begin.astimezone(ZoneInfo(hours.timezone)).date() - timedelta(
        days=1
    )  # a window from the day before
    last = finish.astimezone(ZoneInfo(hours.timezone)).date() + timedelta(days=1)
    while day <= last:
        window = hours.window(day)
        day += timedelta(days=1)
        if window is None:
            continue
        opens, closes = max(window[0], begin), min(window[1], finish)
        if closes > opens:
            total += closes - opens
    return total
