"""The public form's questions: where each answer leads, and that answers carried in hidden fields
are checked again (a changed field cannot skip a question)."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from services.portal import apply
from shared import municipality, preparation


def answers(**fields) -> apply.Answers:
    form = MultiDict()
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            form.add(name, item)
    return apply.read(form)


def test_each_question_leads_to_the_next_and_a_missing_answer_stays_on_it():
    assert apply.check(answers(), "postal_code") == apply.Outcome("postal_code", error="郵便番号を入力してください。")
    given = answers(postal_code="８８５ー００２１")
    assert apply.check(given, "postal_code") == apply.Outcome("reasons")
    assert given.postal_code == "885-0021"  # shown back as the form will store it
    assert apply.check(answers(postal_code="885-0021"), "reasons").error == "あてはまるものを選んでください。"
    full = answers(postal_code="885-0021", reasons=["elderly"], parking="yes", moving="no")
    assert apply.check(full, "parking") == apply.Outcome("moving")
    assert apply.check(full, "moving") == apply.Outcome("household")


def test_each_no_stops_with_a_reason_that_names_the_city_or_the_rule():
    assert apply.check(answers(postal_code="880-0805"), "postal_code").stop == "outside"
    assert apply.check(answers(postal_code="885-0021", none_apply="yes"), "reasons").stop == "no_reason"
    no_parking = answers(postal_code="885-0021", reasons=["disability"], parking="no")
    assert apply.check(no_parking, "parking").stop == "no_parking"
    moving = answers(postal_code="885-0021", reasons=["disability"], parking="yes", moving="yes")
    assert apply.check(moving, "moving").stop == "moving"
    city = municipality.load()
    assert city.name in apply.stop_reason("outside")
    assert f"{city.eligibility.no_move_within_months}か月以内" in apply.stop_reason("moving")


def test_a_changed_hidden_answer_is_caught_on_a_later_page():
    # The household page checks every earlier answer again: an unknown reason code or a
    # parking answer changed to "no" in the hidden fields stops there.
    forged = answers(postal_code="885-0021", reasons=["elderly", "invented"], parking="yes", moving="no")
    assert apply.check(forged, "moving") == apply.Outcome("reasons", error="あてはまるものを選んでください。")
    flipped = answers(postal_code="885-0021", reasons=["elderly"], parking="no", moving="no")
    assert apply.check(flipped, "moving").stop == "no_parking"


def test_answers_travel_as_hidden_fields_and_become_the_booking_apis_object():
    given = answers(postal_code="885-0021", reasons=["elderly", "elderly", "in_hospital"], parking="yes", moving="no")
    assert given.hidden() == [
        ("postal_code", "885-0021"),
        ("parking", "yes"),
        ("moving", "no"),
        ("reasons", "elderly"),
        ("reasons", "in_hospital"),
    ]
    assert given.eligibility(True) == {
        "reasons": ["elderly", "in_hospital"],
        "parking": True,
        "moving_soon": False,
        "guardian_present": True,
    }


def test_what_to_prepare_comes_from_the_config_with_the_child_items_only_for_a_child():
    city = municipality.load()
    adults = preparation.as_text(city, has_child=False)
    with_child = preparation.as_text(city, has_child=True)
    assert "・本人確認書類" in adults and "A：運転免許証" in adults
    assert "保護者の方の本人確認書類" not in adults and "保護者の方の本人確認書類" in with_child
    assert "（該当する方のみ）" in adults  # the proxy's papers, said to apply only where they do
    assert [i.audience for i in preparation.items_for(city, False)].count("child") == 0


def test_a_municipality_without_questions_asks_none_and_accepts_every_postal_code():
    data = {
        "code": "000000",
        "name": "テスト町",
        "contact": {"office": "テスト町役場", "phone": "000-000-0000"},
        "depot": {"name": "役場", "lat": 0, "lon": 0},
        "calendar": {
            "office_hours": {"start": "08:30", "end": "17:15"},
            "lunch": {"start": "12:00", "end": "13:00"},
            "closure": {"start": "12-29", "end": "01-03"},
        },
        "visits": {
            "setup_minutes": 15,
            "minutes_per_person": 30,
            "window_minutes": 30,
            "slot_step_minutes": 15,
            "booking_horizon_working_days": 40,
        },
        "travel": {"road_factor": 1.5, "average_speed_kmh": 28, "minimum_minutes": 10},
        "crews": [],
        "districts": [],
    }
    town = municipality.parse(data)
    assert town.eligibility.reasons == () and town.preparation == ()
    assert town.lives_here("100-0001")
