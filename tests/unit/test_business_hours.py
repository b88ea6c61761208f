"""Business-hours arithmetic against cases worked out by hand, each from the zone's published offsets
(written beside the case), not from the module: weekends, time zones either side of UTC, daylight-saving
changes in spring and autumn, windows that run to midnight and a window on the night the clock jumps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from crm_core.business_hours import BusinessHours, add_business_minutes, business_time_between

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
BERLIN = BusinessHours("Europe/Berlin", WEEKDAYS, "09:00", "17:00")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


CASES = [
    # Friday 16:00 CET (+01:00); one hour left on Friday; Berlin moves to CEST (+02:00) on Sunday 29 March,
    # so Monday opens at 07:00Z; the second hour ends 08:00Z.
    ("friday into monday over the spring change", BERLIN, "2026-03-27T15:00", 120, "2026-03-30T08:00"),
    # Saturday: nothing counts until Monday 09:00 CEST (07:00Z).
    ("a start on a weekend", BERLIN, "2026-03-28T10:00", 30, "2026-03-30T07:30"),
    # Tuesday 07:00 CEST, before opening: counts from 09:00 CEST (07:00Z).
    ("a start before opening", BERLIN, "2026-03-31T05:00", 15, "2026-03-31T07:15"),
    # A whole day, from opening: ends at the close, 17:00 CEST (15:00Z), not at the next opening.
    ("a sum ending at the close", BERLIN, "2026-03-30T07:00", 480, "2026-03-30T15:00"),
    # Tuesday 18:00 CEST, after closing: Wednesday 09:00 CEST.
    ("a start after closing", BERLIN, "2026-03-31T16:00", 60, "2026-04-01T08:00"),
    # Round the clock: plain elapsed minutes, whatever the wall clock does.
    ("no business hours", None, "2026-03-29T00:30", 60, "2026-03-29T01:30"),
    # Every day to midnight in Berlin: Saturday 23:00 CET + 3 real hours over the skipped hour = 01:00Z
    # (03:00 CEST): elapsed time, not wall time.
    (
        "round-the-clock windows over the spring change",
        BusinessHours("Europe/Berlin", ("sat", "sun"), "00:00", "24:00"),
        "2026-03-28T22:00",
        180,
        "2026-03-29T01:00",
    ),
    # Sunday 29 March, 01:00 CET (00:00Z) to 04:00 CEST (02:00Z): a 2-hour window. 150 minutes: 120 on
    # Sunday, 30 from Monday 01:00 CEST (Sunday 23:00Z).
    (
        "a window on the night the clock jumps",
        BusinessHours("Europe/Berlin", (*WEEKDAYS, "sat", "sun"), "01:00", "04:00"),
        "2026-03-29T00:00",
        150,
        "2026-03-29T23:30",
    ),
    # New York: Friday 16:00 EDT (-04:00) is 20:00Z; an hour to 21:00Z; EST (-05:00) from Sunday 1 November,
    # Monday 09:00 EST is 14:00Z; 30 minutes more.
    (
        "friday into monday over the autumn change",
        BusinessHours("America/New_York", WEEKDAYS, "09:00", "17:00"),
        "2026-10-30T20:00",
        90,
        "2026-11-02T14:30",
    ),
    # Tokyo (+09:00, no daylight saving), Monday to Saturday 10:00-19:00. Sunday 09:00 JST: from Monday
    # 10:00 JST (01:00Z), 9 hours to 10:00Z, then Tuesday 10:00 JST (Tuesday 01:00Z) one more hour.
    (
        "a six-day week east of UTC",
        BusinessHours("Asia/Tokyo", (*WEEKDAYS, "sat"), "10:00", "19:00"),
        "2026-06-07T00:00",
        600,
        "2026-06-09T02:00",
    ),
    # Auckland in January is NZDT (+13:00): Sunday 20:00Z is Monday 09:00 local, inside the window,
    # though the UTC date is still Sunday.
    (
        "a local day ahead of the UTC day",
        BusinessHours("Pacific/Auckland", WEEKDAYS, "08:00", "17:00"),
        "2026-01-04T20:00",
        60,
        "2026-01-04T21:00",
    ),
    # Kolkata (+05:30): 08:30 IST Monday, opening 09:30 IST (04:00Z), 30 minutes later.
    (
        "a half-hour offset",
        BusinessHours("Asia/Kolkata", WEEKDAYS, "09:30", "18:00"),
        "2026-01-05T03:00",
        30,
        "2026-01-05T04:30",
    ),
    # Sunday to Thursday in Jerusalem (IST +02:00 in January): Thursday 15:00 local is 13:00Z; two hours
    # to 16:00 local; Friday and Saturday off; Sunday 08:00 local is 06:00Z, one more hour.
    (
        "a sunday-to-thursday week",
        BusinessHours("Asia/Jerusalem", ("sun", "mon", "tue", "wed", "thu"), "08:00", "17:00"),
        "2026-01-08T13:00",
        180,
        "2026-01-11T07:00",
    ),
    ("zero minutes is the start", BERLIN, "2026-03-28T10:00", 0, "2026-03-28T10:00"),
]


@pytest.mark.parametrize(
    ("hours", "start", "minutes", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_business_minutes(hours: BusinessHours | None, start: str, minutes: int, expected: str) -> None:
    assert add_business_minutes(utc(start), minutes, hours) == utc(expected)


def test_a_start_in_another_zone_is_the_same_instant() -> None:
    from zoneinfo import ZoneInfo

    start = datetime(2026, 3, 27, 16, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert add_business_minutes(start, 120, BERLIN) == utc("2026-03-30T08:00")


def test_the_week_and_what_does_not_fit() -> None:
    assert BERLIN.minutes_per_week() == 5 * 8 * 60
    assert BusinessHours.of({"timezone": "UTC", "days": ["sun"], "from": "00:00", "to": "24:00"}) == (
        BusinessHours("UTC", ("sun",), "00:00", "24:00")
    )
    assert BusinessHours.of(None) is None
    tiny = BusinessHours("UTC", ("mon",), "09:00", "09:01")
    with pytest.raises(ValueError, match="do not fit"):
        add_business_minutes(utc("2026-01-05T00:00"), 10_000, tiny)


# The working time between two moments (an SLA clock paused while a ticket waits on its customer), each case
# worked out by hand from the zone's published offsets, like the sums above.
BETWEEN = [
    # Friday 16:00 CET (15:00Z) to Monday 10:00 CEST (08:00Z) over the spring change: Friday's last hour and
    # Monday's first (opening 07:00Z): 120 minutes.
    ("a weekend over the spring change", BERLIN, "2026-03-27T15:00", "2026-03-30T08:00", 120),
    # A Saturday to a Sunday: nothing.
    ("all of it on a weekend", BERLIN, "2026-03-28T08:00", "2026-03-29T20:00", 0),
    # Tuesday 18:00 CEST to Wednesday 08:00 CEST (after closing, before opening): nothing.
    ("overnight", BERLIN, "2026-03-31T16:00", "2026-04-01T06:00", 0),
    # Tuesday 10:00 to 11:30 CEST, within the window: 90 minutes.
    ("within one window", BERLIN, "2026-03-31T08:00", "2026-03-31T09:30", 90),
    # New York, Friday 16:00 EDT (20:00Z) to Monday 09:30 EST (14:30Z) over the autumn change: 60 + 30.
    (
        "a weekend over the autumn change",
        BusinessHours("America/New_York", WEEKDAYS, "09:00", "17:00"),
        "2026-10-30T20:00",
        "2026-11-02T14:30",
        90,
    ),
    # Sundays to midnight in Berlin on the night the clock jumps: Sunday 00:00 CET (Saturday 23:00Z) to
    # Sunday 04:00 CEST (02:00Z) is three real hours.
    (
        "a window across the skipped hour",
        BusinessHours("Europe/Berlin", ("sun",), "00:00", "24:00"),
        "2026-03-28T23:00",
        "2026-03-29T02:00",
        180,
    ),
    ("round the clock", None, "2026-03-28T23:00", "2026-03-29T02:00", 180),
    ("an end before the start", BERLIN, "2026-03-31T09:30", "2026-03-31T08:00", 0),
]


@pytest.mark.parametrize(
    ("hours", "start", "end", "minutes"), [case[1:] for case in BETWEEN], ids=[case[0] for case in BETWEEN]
)
def test_business_time_between(hours: BusinessHours | None, start: str, end: str, minutes: int) -> None:
    paused = business_time_between(utc(start), utc(end), hours)
    assert paused.total_seconds() == minutes * 60
    # Moving a due time by what was paused: a due time within the window moves by the paused working time.
    if minutes:
        assert add_business_minutes(utc(start), paused.total_seconds() / 60, hours) == utc(end)
