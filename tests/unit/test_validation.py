import pytest
from marshmallow import ValidationError

from shared import validation


@pytest.mark.parametrize(
    "text",
    [
        "123456789012",
        "1234 5678 9012",
        "1234-5678-9012",
        "１２３４５６７８９０１２",
        "番号は1234ー5678ー9012です",
        "1234.5678.9012",
        "1234/5678/9012",
        "ABC123456789012",
        "123456789012abc",
        "一二三四五六七八九〇一二",
        "番号：一二三四 五六七八 九〇一二",
    ],
)
def test_individual_numbers_are_found_in_any_writing(text):
    assert validation.contains_individual_number(text)


def test_identifiers_are_never_taken_for_individual_numbers():
    import uuid

    assert not validation.contains_individual_number("12345678-1234-abcd-9012-0123456789ab")
    assert not any(validation.contains_individual_number(str(uuid.uuid4())) for _ in range(20000))
    assert validation.contains_individual_number("No.123456789012")
    assert validation.contains_individual_number("ID: 1234-5678-9012")
    assert not validation.contains_individual_number("chair-123456789012")  # our own id form


@pytest.mark.parametrize("text", ["都城\u202e花子", "高崎町\x00大牟田", "霧島\u2066ハナ", "a\x1bb"])
def test_control_and_direction_characters_are_refused_in_names_and_addresses(text):
    from shared.household import Text

    with pytest.raises(ValidationError) as refused:
        Text().deserialize(text)
    assert refused.value.messages == [validation.CONTROL_MESSAGE]
    assert validation.japanese(validation.CONTROL_MESSAGE) == "使えない文字（制御文字など）が含まれています。"


@pytest.mark.parametrize(
    "text",
    ["0986-22-1234", "090-1234-5678", "885-0021", "12345678901", "1234567890123", "電話 0986 22 1234", "2026/12/01"],
)
def test_phone_numbers_postal_codes_and_other_lengths_are_not_individual_numbers(text):
    assert not validation.contains_individual_number(text)


def test_every_path_holding_a_number_is_found():
    data = {
        "needs": "番号 123456789012",
        "applicants": [{"given_name": "x"}, {"family_name": "1234 5678 9012"}],
        "count": 123456789012,
    }
    assert set(validation.find_individual_numbers(data)) == {"needs", "applicants.1.family_name", "count"}


def test_numbers_and_schema_errors_are_reported_together():
    from services.booking.schemas import BookingRequestSchema
    from shared.http import screen_and_load
    from tests.factories import booking_body

    with pytest.raises(ValidationError) as raised:
        screen_and_load(BookingRequestSchema, booking_body(phone="x", needs="123456789012"))
    assert {e["field"] for e in validation.field_errors(raised.value.messages)} == {"phone", "needs"}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("0986-22-1234", "0986221234"), ("０９０－１２３４－５６７８", "09012345678"), ("(0986) 22 1234", "0986221234")],
)
def test_phone_numbers_are_folded_to_digits(typed, stored):
    assert validation.normalize_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "0901234567", "+81-90-1234-5678", "abc", "0986-22-12345"])
def test_phone_numbers_that_are_not_japanese_are_refused(typed):
    with pytest.raises(ValidationError):
        validation.normalize_phone(typed)


def test_kana_accepts_hiragana_and_half_width_and_stores_katakana():
    assert validation.normalize_kana("みやこのじょう") == "ミヤコノジョウ"
    assert validation.normalize_kana("ﾊﾅｺ") == "ハナコ"
    with pytest.raises(ValidationError):
        validation.normalize_kana("都城")


def test_postal_codes_are_normalized():
    assert validation.normalize_postal_code("〒８８５００２１") == "885-0021"
    with pytest.raises(ValidationError):
        validation.normalize_postal_code("885-002")


def test_field_errors_are_flattened_with_japanese():
    errors = validation.field_errors(
        {"applicants": {0: {"birth_date": ["Not a valid date."]}}, "consent": ["Consent is required."]}
    )
    assert {
        "field": "applicants.0.birth_date",
        "en": "Not a valid date.",
        "ja": "日付の形式が正しくありません（例: 2026-12-01）。",
    } in errors
    assert any(e["field"] == "consent" and "同意" in e["ja"] for e in errors)


def test_messages_with_numbers_are_translated_and_unknown_ones_fall_back():
    assert validation.japanese("Length must be between 1 and 10.") == "1〜10 件（文字）で入力してください。"
    assert validation.japanese("Something new.") == "入力内容を確認してください。"


def test_a_wrong_phone_number_is_shown_the_towns_own_office_number_as_an_example(tmp_path, monkeypatch):
    import yaml

    from shared import municipality, settings
    from shared.household import Phone
    from shared.validation import japanese

    data = yaml.safe_load(settings.municipality_config_path().read_text(encoding="utf-8"))
    data["contact"]["phone"] = "0237-22-1111"  # a town in a valley, its own office
    town = tmp_path / "town.yaml"
    town.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("MUNICIPALITY_CONFIG", str(town))
    municipality.load.cache_clear()
    try:
        with pytest.raises(ValidationError) as refused:
            Phone().deserialize("12")
        [message] = refused.value.messages
        assert "0237-22-1111" in message and "0986" not in message
        assert japanese(message) == "電話番号の形式が正しくありません（例: 0237-22-1111、090-1234-5678）。"
    finally:
        monkeypatch.delenv("MUNICIPALITY_CONFIG")
        municipality.load.cache_clear()
