"""Birth dates as reception types them (和暦 or 西暦) and dates as the screens show them."""

import datetime as dt

import pytest

from services.portal.japanese import NotADate, day_label, era_of, parse_date, window_label
from shared.household import age_on


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("昭和16年4月12日", dt.date(1941, 4, 12)),
        ("昭和１６年４月１２日", dt.date(1941, 4, 12)),  # full-width digits, as an IME gives them
        ("S16.4.12", dt.date(1941, 4, 12)),
        ("s16/4/12", dt.date(1941, 4, 12)),
        ("昭和 16 年 4 月 12 日", dt.date(1941, 4, 12)),
        ("昭和元年12月25日", dt.date(1926, 12, 25)),
        ("大正15年12月24日", dt.date(1926, 12, 24)),
        ("平成元年1月8日", dt.date(1989, 1, 8)),
        ("H31.4.30", dt.date(2019, 4, 30)),
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("明治45年7月29日", dt.date(1912, 7, 29)),
        ("1941-04-12", dt.date(1941, 4, 12)),
        ("1941/4/12", dt.date(1941, 4, 12)),
        ("1941年4月12日", dt.date(1941, 4, 12)),
    ],
)
def test_birth_dates_are_read_in_either_calendar(typed, expected):
    assert parse_date(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("昭和64年1月8日", "昭和にその日付はありません。"),  # 昭和 ended on the 7th
        ("昭和70年1月1日", "昭和にその日付はありません。"),
        ("平成元年1月7日", "平成にその日付はありません。"),
        ("令和元年4月30日", "令和にその日付はありません。"),
        ("1941-02-30", "存在しない日付です。"),
        ("昭和16年13月1日", "存在しない日付です。"),
        ("", "生年月日を入力してください。"),
        ("4月12日", "日付として読み取れません（例: 昭和16年4月12日、S16.4.12、1941-04-12）。"),
        ("昭和十六年四月十二日", "日付として読み取れません（例: 昭和16年4月12日、S16.4.12、1941-04-12）。"),
    ],
)
def test_a_date_that_cannot_be_says_why_in_japanese(typed, message):
    with pytest.raises(NotADate) as refused:
        parse_date(typed)
    assert str(refused.value) == message


def test_dates_are_shown_with_the_weekday_and_the_era():
    assert day_label(dt.date(2026, 12, 3)) == "12月3日（木）"
    assert day_label(dt.date(2027, 1, 4)) == "1月4日（月）"
    assert era_of(dt.date(1941, 4, 12)) == "昭和16年4月12日"
    assert era_of(dt.date(1989, 1, 8)) == "平成元年1月8日"
    assert era_of(dt.date(1989, 1, 7)) == "昭和64年1月7日"
    start = dt.datetime(2026, 12, 3, 9, 30)
    assert window_label(start, start + dt.timedelta(minutes=30)) == "12月3日（木）9:30〜10:00"


def test_an_age_counts_whole_years_and_a_birthday_on_the_day_itself():
    born = dt.date(2011, 12, 3)
    assert age_on(born, dt.date(2026, 12, 2)) == 14
    assert age_on(born, dt.date(2026, 12, 3)) == 15
    assert age_on(dt.date(2012, 2, 29), dt.date(2026, 2, 28)) == 13
    assert age_on(dt.date(2012, 2, 29), dt.date(2026, 3, 1)) == 14
