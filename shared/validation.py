"""Input rules shared by every API: field errors in Japanese and English, Japanese formats,
and the refusal of Individual Numbers (マイナンバー) anywhere in the input."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from shared import clock

MOBILE_EXAMPLE = "090-1234-5678"


def phone_message() -> str:
    """What a wrong phone number is told, with the municipality's own office number as the landline
    example (a number people there know the shape of), from its file."""
    from shared import municipality  # the configuration, loaded at the first wrong number

    return f"Must be a Japanese phone number (landline {municipality.load().contact_phone}, mobile {MOBILE_EXAMPLE})."


# Marshmallow's own messages and ours, with their Japanese. Patterns cover messages with numbers.
_JA_EXACT = {
    "Missing data for required field.": "必須項目です。",
    "Unknown field.": "この項目は受け付けていません。",
    "Field may not be null.": "空にはできません。",
    "Not a valid string.": "文字列で入力してください。",
    "Not a valid integer.": "整数で入力してください。",
    "Not a valid boolean.": "true または false で指定してください。",
    "Not a valid date.": "日付の形式が正しくありません（例: 2026-12-01）。",
    "Not a valid datetime.": "日時の形式が正しくありません（例: 2026-12-01T09:00:00+09:00）。",
    "Not a valid list.": "リスト形式で入力してください。",
    "Not a valid email address.": "メールアドレスの形式が正しくありません。",
    "Invalid input type.": "入力の形式が正しくありません。",
    "Invalid value.": "値が正しくありません。",
    "Must be a postal code like 885-0000.": "郵便番号は 885-0000 の形式で入力してください。",
    "Must be written in katakana or hiragana.": "フリガナはカタカナまたはひらがなで入力してください。",
    "Unknown district.": "地区名が正しくありません。",
    "Consent is required.": "個人情報の取扱いへの同意が必要です。",
    "Must not be in the future.": "未来の日付は入力できません。",
    "Must be today or later.": "本日以降の日付を入力してください。",
    "Not a working day of the city office.": "市役所の業務日ではありません（土日祝日・年末年始を除く）。",
    "Must not contain an Individual Number (12 digits).": "マイナンバー（12桁の個人番号）は入力しないでください。",
    "Must not be blank.": "空欄にはできません。",
    "Must be a whole date and time with time zone.": "タイムゾーン付きの日時で入力してください。",
    "Must not be more than the household size.": "世帯の人数を超えています。",
    "Must be 0 when the resident was absent.": "不在の場合は 0 にしてください。",
    "Unknown crew.": "班が見つかりません。",
    "Not a valid value.": "値が正しくありません。",
    "String does not match expected pattern.": "形式が正しくありません。",
    "Give offer_id, or crew_id and start.": "日時を選んでください。",
    "Must be on or after 'from'.": "終了日は開始日以降にしてください。",
    "Must be on or before 'to'.": "開始日は終了日以前にしてください。",
    "Not a valid month (YYYY-MM).": "月の形式が正しくありません（例: 2026-04）。",
    "Give a session or a venue, not both.": "会（集団申請）と会場は、どちらか一方を指定してください。",
    "Only reception signs households up to a session.": "会（集団申請）への申込は、受付でお受けします。",
    "Not a valid time (HH:MM).": "時刻は 10:00 のように24時間制で入力してください。",
    "Must be at least 30 minutes after the opening time.": "終わりの時刻は、始まりの30分以上後にしてください。",
    "Must not contain control or direction characters.": "使えない文字（制御文字など）が含まれています。",
    "Must be a month of the fiscal year.": "指定した年度（4月から翌年3月）の中の月を指定してください。",
    "Give booking_id or status.": "booking_id または status を指定してください。",
    "Must be a future date.": "明日以降の日付を指定してください。",
    "Unknown venue.": "会場（公民館など）が見つかりません。",
    "This field must be left empty.": "この項目は空欄のままにしてください。",
    "A group session needs 5 or more people.": "会場での申請補助は5人以上でお申し込みください。",
    "This postal code is not in the municipality.": "市内の郵便番号ではありません。市内にお住まいの方が対象です。",
    "Give at least one reason why coming to the counter is difficult.": (
        "窓口へお越しになるのが難しい理由を1つ以上選んでください。"
    ),
    "Unknown reason code.": "理由の選択肢が正しくありません。",
    "The car needs a place to stop near the home.": "訪問の車を止める場所が必要です。",
    "A move is planned soon: apply at the new address instead.": (
        "近く引っ越しの予定がある方は、引っ越し先で申請してください。"
    ),
    "An applicant under 15 needs a guardian present at the visit.": (
        "15歳未満の方の申請には、保護者の方の立ち会いが必要です。"
    ),
}
_JA_PATTERNS = [
    (
        re.compile(r"^Must be a Japanese phone number \(landline (\S+), mobile (\S+)\)\.$"),
        "電話番号の形式が正しくありません（例: {0}、{1}）。",
    ),
    (re.compile(r"^Must be one of: (.*)\.$"), "次のいずれかを指定してください: {0}"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), "{0}〜{1} 件（文字）で入力してください。"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "{0} 件（文字）以上で入力してください。"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "{0} 件（文字）以内で入力してください。"),
    (
        re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
        "{0} 以上 {1} 以下で入力してください。",
    ),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), "{0} 以上で入力してください。"),
]
_JA_FALLBACK = "入力内容を確認してください。"


# Every date a person or a caller may give lies within these (birth dates included). Date arithmetic
# near year 1 or 9999 overflows, which would otherwise be a 500.
EARLIEST_DATE, LATEST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
IN_DATE_RANGE = validate.Range(EARLIEST_DATE, LATEST_DATE)


class Day(fields.Date):
    """A date within EARLIEST_DATE..LATEST_DATE: the only date field request schemas use."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.insert(0, IN_DATE_RANGE)


class Month(fields.String):
    """A calendar month written YYYY-MM, loaded as the first day of that month."""

    default_error_messages = {"invalid": "Not a valid month (YYYY-MM)."}

    def __init__(self, **kwargs: Any) -> None:
        # What the API documents show (a string with this pattern), as tools read it.
        kwargs["metadata"] = {"pattern": r"^\d{4}-\d{2}$", "example": "2026-04", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        text = value if isinstance(value, str) else ""
        if not re.fullmatch(r"\d{4}-\d{2}", text):
            raise self.make_error("invalid")
        try:
            month = dt.date(int(text[:4]), int(text[5:]), 1)
        except ValueError:
            raise self.make_error("invalid") from None
        IN_DATE_RANGE(month)
        return month

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.strftime("%Y-%m")


class ClockTime(fields.String):
    """A time of day written HH:MM (24-hour), loaded as datetime.time."""

    default_error_messages = {"invalid": "Not a valid time (HH:MM)."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": r"^\d{2}:\d{2}$", "example": "10:00", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.time:
        text = value if isinstance(value, str) else ""
        if not re.fullmatch(r"\d{2}:\d{2}", text):
            raise self.make_error("invalid")
        try:
            return dt.time(int(text[:2]), int(text[3:]))
        except ValueError:
            raise self.make_error("invalid") from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.strftime("%H:%M")


class LocalDateTime(fields.DateTime):
    """An ISO date-time; one without an offset is read in the municipality's time zone."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        IN_DATE_RANGE(moment.date())  # the bounds of every date a caller gives
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=clock.zone())
        return moment.astimezone(clock.zone())


@functools.cache
def schema_instance(schema_cls: type[Schema]) -> Schema:
    """One instance per schema class. Marshmallow deep-copies every field when a schema is made
    (with a booking's nested schemas, about 2.5 ms of CPU: the largest cost of the intake in a
    profile), and a schema keeps no state between loads, so one instance serves every request."""
    return schema_cls()


_BOOKING_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_booking_id(value: object) -> bool:
    """A booking id as booking makes them (a UUID string): what an RPC argument must be before it
    goes near a query (a dict such as {"$ne": null} would match any booking)."""
    return isinstance(value, str) and bool(_BOOKING_ID.match(value))


def japanese(message: str) -> str:
    if message in _JA_EXACT:
        return _JA_EXACT[message]
    for pattern, template in _JA_PATTERNS:
        match = pattern.match(message)
        if match:
            return template.format(*match.groups())
    return _JA_FALLBACK


def field_errors(messages: Any, prefix: str = "") -> list[dict]:
    """Flattens marshmallow's nested messages to [{field, en, ja}] with dotted paths."""
    if isinstance(messages, dict):
        found = []
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or "_schema"
            found.extend(field_errors(value, path))
        return found
    if isinstance(messages, list | tuple):
        found = []
        for item in messages:
            if isinstance(item, str):
                found.append({"field": prefix, "en": item, "ja": japanese(item)})
            else:
                found.extend(field_errors(item, prefix))
        return found
    return [{"field": prefix, "en": str(messages), "ja": japanese(str(messages))}]


def normalize(text: str) -> str:
    """NFKC folds full-width digits and half-width katakana, as residents type them."""
    return unicodedata.normalize("NFKC", text).strip()


# Digit runs with the separators people write between them (spaces, hyphens of any width, dots,
# slashes and commas).
_DIGIT_RUN = re.compile(r"\d(?:[\s\-‐－ー―./,・]*\d)*")
# Kanji numerals, as a number may be written out (一二三四…).
_KANJI_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
INDIVIDUAL_NUMBER_MESSAGE = "Must not contain an Individual Number (12 digits)."


# Our own identifiers (UUIDs; a word, a hyphen and hex digits, like chair-1a2b3c4d5e6f): their
# digits are not a number. Anything else with letters next to digits is still scanned.
_IDENTIFIER = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b|\b[A-Za-z]+-[0-9a-f]{6,}\b"
)


def contains_individual_number(text: str) -> bool:
    folded = _IDENTIFIER.sub(" ", unicodedata.normalize("NFKC", text).translate(_KANJI_DIGITS))
    return any(sum(ch.isdigit() for ch in run) == 12 for run in _DIGIT_RUN.findall(folded))


# Characters no name or address holds: control characters (NUL among them) and the invisible
# direction overrides that can make text read differently from what is stored.
_HIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CONTROL_MESSAGE = "Must not contain control or direction characters."


def has_hidden_characters(text: str) -> bool:
    return bool(_HIDDEN.search(text))


def find_individual_numbers(data: Any, prefix: str = "") -> list[str]:
    """Paths of every string in `data` that holds a 12-digit number."""
    if isinstance(data, str):
        return [prefix or "_schema"] if contains_individual_number(data) else []
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in find_individual_numbers(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(data, list):
        return [
            p for i, v in enumerate(data) for p in find_individual_numbers(v, f"{prefix}.{i}" if prefix else str(i))
        ]
    if isinstance(data, int) and not isinstance(data, bool):
        return find_individual_numbers(str(data), prefix)
    return []


_PHONE_MOBILE = re.compile(r"^0[5789]0\d{8}$")
_PHONE_LANDLINE = re.compile(r"^(?!0[5789]0)0[1-9]\d{8}$")


def normalize_phone(text: str) -> str:
    """Returns the phone number as digits and hyphens as typed, or raises ValidationError."""
    folded = re.sub(r"[\s\-‐－ー―()（）]", "", normalize(text))
    if not (_PHONE_MOBILE.match(folded) or _PHONE_LANDLINE.match(folded)):
        raise ValidationError(phone_message())
    return folded


def normalize_postal_code(text: str) -> str:
    folded = re.sub(r"[\s\-‐－ー―〒]", "", normalize(text))
    if not re.fullmatch(r"\d{7}", folded):
        raise ValidationError("Must be a postal code like 885-0000.")
    return f"{folded[:3]}-{folded[3:]}"


def normalize_kana(text: str) -> str:
    """Accepts katakana or hiragana (full or half width) and stores katakana."""
    folded = normalize(text)
    katakana = "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in folded)
    if not katakana or not re.fullmatch(r"[ァ-ヺー・ 　]+", katakana):
        raise ValidationError("Must be written in katakana or hiragana.")
    return re.sub(r"\s+", " ", katakana)
