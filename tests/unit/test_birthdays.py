"""What day a birthday is told on."""

from datetime import date

from crm_core.models.contact import birthday_month_day
from crm_core.services.birthdays import month_days


def test_29_february_is_told_on_28_february_of_a_common_year() -> None:
    assert month_days(date(2027, 2, 28)) == ["02-28", "02-29"]
    assert month_days(date(2028, 2, 28)) == ["02-28"]
    assert month_days(date(2028, 2, 29)) == ["02-29"]
    assert birthday_month_day("--02-29") == birthday_month_day("1992-02-29") == "02-29"
    assert birthday_month_day(None) is None
