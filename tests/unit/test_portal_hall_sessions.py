"""Reception's form for a new hall session: what it sends, and what it says when a choice is missing."""

from services.portal.hall_sessions import SessionForm, read_form, session_body


def test_a_complete_form_becomes_the_scheduling_api_body():
    form = read_form(
        {"venue": "yamada-hall", "date": "2027-02-03", "opens": "10:00", "closes": "12:00", "capacity": " 8 "}
    )
    assert session_body(form) == {
        "venue": "yamada-hall",
        "crew_id": "crew-1",  # the only crew, when the form does not ask
        "date": "2027-02-03",
        "opens": "10:00",
        "closes": "12:00",
        "capacity": 8,
    }


def test_missing_choices_and_a_capacity_that_is_not_a_number_are_named_once_each():
    form = SessionForm(values={"opens": "10:00", "closes": "12:00", "capacity": "八"})
    assert session_body(form) is None
    assert form.error_list() == [
        ("venue", "会場を選んでください。"),
        ("date", "日付を選んでください。"),
        ("capacity", "定員は 5〜30 の数字で入力してください。"),
    ]
    api_said = SessionForm(
        errors={"closes": "終わりの時刻は、始まりの30分以上後にしてください。", "opens": "形式が正しくありません。"}
    )
    assert api_said.error_list() == [
        ("opens", "始まりの時刻：形式が正しくありません。"),
        ("closes", "終わりの時刻は、始まりの30分以上後にしてください。"),
    ]
