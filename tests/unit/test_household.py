import datetime as dt

import pytest
from marshmallow import ValidationError

from services.booking.schemas import BookingRequestSchema
from shared import clock
from tests.factories import booking_body, next_new_year_closure_day, next_saturday, working_day


def errors_of(body):
    with pytest.raises(ValidationError) as raised:
        BookingRequestSchema().load(body)
    return raised.value.messages


def test_a_complete_booking_is_normalized():
    body = booking_body(
        phone="０９０－１２３４－５６７８", preferred=[{"date": working_day(3).isoformat(), "period": "pm"}]
    )
    body["address"]["district"] = "takazaki"
    loaded = BookingRequestSchema().load(body)
    assert loaded["phone"] == "09012345678"
    assert loaded["address"]["district"] == "takazaki"
    assert loaded["preferred"][0]["period"] == "pm"


def test_district_by_japanese_name_is_stored_as_its_id():
    assert BookingRequestSchema().load(booking_body())["address"]["district"] == "takazaki"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.update(applicants=[]), "applicants"),
        (lambda b: b.update(applicants=[b["applicants"][0]] * 11), "applicants"),
        (lambda b: b["applicants"][0].update(birth_date="2999-01-01"), "applicants"),
        (lambda b: b["applicants"][0].update(family_name_kana="都城"), "applicants"),
        (lambda b: b["applicants"][0].update(family_name="   "), "applicants"),
        (lambda b: b["address"].update(district="鹿児島"), "address"),
        (lambda b: b.update(consent=False), "consent"),
        (lambda b: b.pop("consent"), "consent"),
        (lambda b: b.update(status="done"), "status"),  # no mass assignment
        (lambda b: b.update(email="not-an-address"), "email"),
        (lambda b: b.update(channel="Phone Line!"), "channel"),
        (lambda b: b.update(needs="x" * 501), "needs"),
    ],
)
def test_bad_fields_are_named(change, field):
    body = booking_body()
    change(body)
    assert field in errors_of(body)


def test_a_preference_on_a_day_the_office_is_closed_says_so():
    for closed in (next_saturday(), next_new_year_closure_day()):
        assert closed > clock.today()  # the rule under test is the closed day, not "in the past"
        messages = errors_of(booking_body(preferred=[{"date": closed.isoformat(), "period": "am"}]))
        assert messages["preferred"] == {0: {"date": ["Not a working day of the city office."]}}, closed


def test_a_preference_in_the_past_is_refused():
    yesterday = clock.today() - dt.timedelta(days=1)
    assert "preferred" in errors_of(booking_body(preferred=[{"date": yesterday.isoformat(), "period": "am"}]))
