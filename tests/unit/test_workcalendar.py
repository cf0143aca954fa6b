import datetime as dt

from shared import municipality, workcalendar

CAL = municipality.load().calendar


def test_weekends_holidays_and_the_new_year_closure_are_not_working_days():
    assert not workcalendar.is_working_day(dt.date(2026, 11, 28), CAL)  # Saturday
    assert not workcalendar.is_working_day(dt.date(2026, 11, 3), CAL)  # 文化の日
    assert not workcalendar.is_working_day(dt.date(2026, 11, 23), CAL)  # 勤労感謝の日
    for day in (dt.date(2026, 12, 29), dt.date(2026, 12, 31), dt.date(2027, 1, 4 - 1)):
        assert not workcalendar.is_working_day(day, CAL)
    assert workcalendar.is_working_day(dt.date(2026, 12, 28), CAL)
    assert workcalendar.is_working_day(dt.date(2027, 1, 4), CAL)


def test_working_days_skip_the_closure():
    days = list(workcalendar.working_days(dt.date(2026, 12, 25), 3, CAL))
    assert days == [dt.date(2026, 12, 25), dt.date(2026, 12, 28), dt.date(2027, 1, 4)]


def test_extra_closed_days_from_configuration():
    closed = dt.date(2026, 12, 1)
    calendar = municipality.Calendar(**{**vars(CAL), "extra_closed_days": frozenset({closed})})
    assert not workcalendar.is_working_day(closed, calendar)
