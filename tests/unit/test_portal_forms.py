"""The phone-booking form turned into the booking API's body, and its errors put back by field."""

from werkzeug.datastructures import MultiDict

from services.portal.forms import booking_body, form_name, read_form

FILLED = {
    "applicant_count": "2",
    "a0_family_name": "都城",
    "a0_given_name": "花子",
    "a0_family_name_kana": "みやこのじょう",
    "a0_given_name_kana": "ﾊﾅｺ",
    "a0_birth_date": "昭和16年4月12日",
    "a1_family_name": "都城",
    "a1_given_name": "一郎",
    "a1_family_name_kana": "ミヤコノジョウ",
    "a1_given_name_kana": "イチロウ",
    "a1_birth_date": "1938-09-30",
    "phone": "0986-22-4141",
    "postal_code": "８８５００００",
    "district": "takazaki",
    "address_line": "高崎町大牟田 1234",
    "email": "",
    "needs": "車椅子",
    "consent": "yes",
}


def test_a_filled_form_becomes_the_apis_body_with_kana_and_dates_normalised():
    household = read_form(MultiDict(FILLED))
    assert household.values["a0_family_name_kana"] == "ミヤコノジョウ"
    assert household.values["a0_given_name_kana"] == "ハナコ"
    body = booking_body(household)
    assert household.errors == {}
    assert body["channel"] == "phone" and body["consent"] is True and body["email"] is None
    assert [a["birth_date"] for a in body["applicants"]] == ["1941-04-12", "1938-09-30"]
    assert body["address"] == {"postal_code": "８８５００００", "district": "takazaki", "line": "高崎町大牟田 1234"}


def test_every_mistake_is_reported_at_once_by_field_and_nothing_is_sent():
    form = dict(FILLED, a0_birth_date="昭和70年1月1日", a1_given_name="", phone="12345", consent="")
    form["a1_given_name_kana"] = "Ichiro"
    household = read_form(MultiDict(form))
    assert booking_body(household) is None
    assert household.errors == {
        "a0_birth_date": "昭和にその日付はありません。",
        "a1_given_name": "2人目の氏名（名）を入力してください。",
        "a1_given_name_kana": "フリガナはカタカナまたはひらがなで入力してください。",
        "phone": "電話番号の形式が正しくありません（例: 0986-23-2111、090-1234-5678）。",
        "consent": "個人情報の取扱いへの同意が必要です。",
    }
    summary = dict(household.error_list())
    assert list(summary) == ["a0_birth_date", "a1_given_name", "a1_given_name_kana", "phone", "consent"]
    assert summary["a0_birth_date"] == "1人目の生年月日：昭和にその日付はありません。"
    assert summary["a1_given_name"] == "2人目の氏名（名）を入力してください。"  # not "label：label…"


def test_an_individual_number_anywhere_is_refused_in_the_form_too():
    household = read_form(MultiDict(dict(FILLED, needs="番号は 1234 5678 9012 です")))
    assert booking_body(household) is None
    assert household.errors["needs"] == "マイナンバー（12桁の個人番号）は入力しないでください。"


def test_empty_fields_say_which_field_and_a_missing_district_asks_to_choose():
    household = read_form(MultiDict({"applicant_count": "1"}))
    assert booking_body(household) is None
    assert household.errors["a0_family_name"] == "1人目の氏名（姓）を入力してください。"
    assert household.errors["a0_birth_date"] == "1人目の生年月日を入力してください。"
    assert household.errors["district"] == "地区を選んでください。"
    assert household.errors["postal_code"] == "郵便番号を入力してください。"


def test_the_applicant_count_stays_within_one_to_ten_whatever_is_posted():
    assert read_form(MultiDict({"applicant_count": "99"})).applicants == 10
    assert read_form(MultiDict({"applicant_count": "0"})).applicants == 1
    assert read_form(MultiDict({"applicant_count": "two"})).applicants == 1


def test_the_apis_field_paths_map_to_the_forms_fields():
    assert form_name("applicants.3.birth_date") == "a3_birth_date"
    assert form_name("address.line") == "address_line"
    assert form_name("address.district") == "district"
    assert form_name("email") == "email"
    assert form_name("channel") == "form"
