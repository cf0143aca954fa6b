"""Dates as people in Japan say and read them: birth dates in 和暦 or 西暦, days with their weekday.

The era table is small and fixed by law, so it lives here rather than in a dependency."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from shared.validation import normalize


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    first_day: dt.date
    last_day: dt.date | None  # None: the current era


ERAS = (
    Era("明治", "M", dt.date(1868, 1, 25), dt.date(1912, 7, 29)),
    Era("大正", "T", dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
    Era("昭和", "S", dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    Era("平成", "H", dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    Era("令和", "R", dt.date(2019, 5, 1), None),
)

WEEKDAYS = "月火水木金土日"

BIRTH_DATE_HELP = "例: 昭和16年4月12日、S16.4.12、1941-04-12"


class NotADate(ValueError):
    """The text is not a date this module can read; the message is Japanese, for the person."""


_ERA_DATE = re.compile(
    r"^(?P<era>明治|大正|昭和|平成|令和|[MTSHR])\s*(?P<year>元|\d{1,2})\s*(?:年|[./-])\s*"
    r"(?P<month>\d{1,2})\s*(?:月|[./-])\s*(?P<day>\d{1,2})\s*日?$",
    re.IGNORECASE,
)
_WESTERN_DATE = re.compile(
    r"^(?P<year>\d{4})\s*(?:年|[./-])\s*(?P<month>\d{1,2})\s*(?:月|[./-])\s*(?P<day>\d{1,2})\s*日?$"
)


def _era(word: str) -> Era:
    return next(e for e in ERAS if word in (e.name, e.letter) or word.upper() == e.letter)


def parse_date(text: str) -> dt.date:
    """A date typed as 昭和16年4月12日, S16.4.12, 昭和元年12月25日, 1941-04-12 or 1941年4月12日
    (full-width digits too). Raises NotADate with a Japanese message."""
    folded = normalize(text)
    if not folded:
        raise NotADate("生年月日を入力してください。")
    era_match = _ERA_DATE.match(folded)
    western = _WESTERN_DATE.match(folded)
    if era_match:
        era = _era(era_match["era"])
        year_in_era = 1 if era_match["year"] == "元" else int(era_match["year"])
        year = era.first_day.year + year_in_era - 1
        match = era_match
    elif western:
        era, year, match = None, int(western["year"]), western
    else:
        raise NotADate(f"日付として読み取れません（{BIRTH_DATE_HELP}）。")
    try:
        day = dt.date(year, int(match["month"]), int(match["day"]))
    except ValueError:
        raise NotADate("存在しない日付です。") from None
    if era is not None and (day < era.first_day or (era.last_day is not None and day > era.last_day)):
        raise NotADate(f"{era.name}にその日付はありません。")
    return day


def era_of(day: dt.date) -> str:
    """The day in 和暦, e.g. 昭和16年4月12日 (元年 for the first year)."""
    era = next(e for e in reversed(ERAS) if day >= e.first_day)
    year = day.year - era.first_day.year + 1
    return f"{era.name}{'元' if year == 1 else year}年{day.month}月{day.day}日"


def day_label(day: dt.date) -> str:
    """12月3日（水）"""
    return f"{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def time_label(moment: dt.datetime) -> str:
    """9:30"""
    return f"{moment.hour}:{moment.minute:02d}"


def window_label(start: dt.datetime, end: dt.datetime) -> str:
    """12月3日（水）9:30〜10:00"""
    return f"{day_label(start.date())}{time_label(start)}〜{time_label(end)}"
