"""Feasibility rules on small hand-checked cases (Miyakonojo configuration, one crew)."""

import datetime as dt

import pytest

from services.scheduling import planning
from services.scheduling.travel import StraightLineTravel, default_model, distance_km
from shared import municipality
from shared.municipality import Place, TravelRules

CITY = municipality.load()
TRAVEL = default_model(CITY)
DAY = dt.date(2026, 12, 1)  # a Tuesday, a working day
FRAME = planning.day_frame(CITY, DAY)
HIMEKI = CITY.district("himeki")  # next to city hall: 10 minutes (the minimum)
TAKAZAKI = CITY.district("takazaki")  # the far north: 53 minutes


def at(hhmm: str) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time.fromisoformat(hhmm), tzinfo=CITY.timezone)


def stop(place, start, end, visit_id="v"):
    return planning.Stop(visit_id, place, at(start), at(end))


def fits(stops, place, start, end):
    return planning.added_drive(stops, place, at(start), at(end), CITY.depot, FRAME, TRAVEL)


def test_far_districts_are_close_to_an_hour_and_near_ones_the_minimum():
    assert 50 <= TRAVEL.minutes(CITY.depot, TAKAZAKI) <= 60
    assert TRAVEL.minutes(CITY.depot, HIMEKI) == CITY.travel.minimum_minutes
    assert TRAVEL.minutes(HIMEKI, HIMEKI) == 0  # the same place: no drive
    assert 15 < distance_km(CITY.depot, TAKAZAKI) < 18


def test_travel_is_distance_times_road_factor_at_average_speed():
    model = StraightLineTravel(TravelRules(road_factor=2.0, average_speed_kmh=60, minimum_minutes=0))
    a, b = Place("a", 31.0, 131.0), Place("b", 31.0 + 0.5 / 111.2, 131.0)  # about 0.5 km north
    assert model.minutes(a, b) == 1  # 0.5 km x 2 / 60 km/h = 1 min


def test_an_empty_day_costs_the_round_trip():
    assert fits([], TAKAZAKI, "09:30", "10:45") == 2 * 53


def test_the_first_visit_must_leave_time_to_drive_from_the_depot():
    assert fits([], TAKAZAKI, "09:23", "10:38") == 106  # 8:30 + 53 min
    assert fits([], TAKAZAKI, "09:22", "10:37") is None


def test_the_crew_must_be_back_at_the_depot_by_closing():
    assert fits([], TAKAZAKI, "15:00", "16:22") == 106  # 16:22 + 53 = 17:15
    assert fits([], TAKAZAKI, "15:00", "16:23") is None


def test_visits_do_not_overlap_lunch_unless_longer_than_either_half_day():
    assert fits([], HIMEKI, "11:00", "12:15") is None
    assert fits([], HIMEKI, "12:30", "13:30") is None
    assert fits([], HIMEKI, "13:00", "14:15") == 20
    assert fits([], HIMEKI, "08:45", "15:00") == 20  # 6 h 15: a large group, lunch on site


def test_outside_office_hours_is_refused():
    assert fits([], HIMEKI, "08:00", "09:00") is None
    assert fits([], HIMEKI, "16:30", "17:30") is None


def test_a_clash_with_another_visit_or_its_drive_is_refused():
    other = [stop(TAKAZAKI, "10:00", "11:15")]
    assert fits(other, HIMEKI, "10:30", "11:00") is None  # overlaps
    assert fits(other, HIMEKI, "11:15", "11:45") is None  # no time to drive from Takazaki
    assert fits(other, HIMEKI, "09:00", "09:45") is None  # no time to drive to Takazaki by 10:00
    drive_back = TRAVEL.minutes(TAKAZAKI, HIMEKI)
    end = (at("11:15") + dt.timedelta(minutes=drive_back)).strftime("%H:%M")
    assert fits(other, HIMEKI, end, "11:59") is not None


def test_added_drive_is_the_detour_from_the_existing_route():
    other = [stop(TAKAZAKI, "09:30", "10:45")]
    yamada = CITY.district("yamada")  # next to Takazaki
    added = fits(other, yamada, "11:05", "11:50")
    expected = (
        TRAVEL.minutes(TAKAZAKI, yamada) + TRAVEL.minutes(yamada, CITY.depot) - TRAVEL.minutes(TAKAZAKI, CITY.depot)
    )
    assert added == expected
    assert added < 2 * TRAVEL.minutes(CITY.depot, yamada)  # cheaper than a trip of its own


def test_preferences_rank_in_the_order_given():
    wishes = [{"date": DAY, "period": "pm"}, {"date": DAY + dt.timedelta(days=1), "period": "any"}]
    assert planning.preference_rank(wishes, DAY, "pm") == 0
    assert planning.preference_rank(wishes, DAY, "am") is None
    assert planning.preference_rank(wishes, DAY + dt.timedelta(days=1), "am") == 1


def suggest(preferred=(), stops=None, days=(DAY, DAY + dt.timedelta(days=1)), limit=10, duration=75):
    return planning.suggest(
        city=CITY,
        travel=TRAVEL,
        place=TAKAZAKI,
        duration_minutes=duration,
        preferred=list(preferred),
        days=list(days),
        stops_by_crew_day=stops or {},
        not_before=at("00:00") - dt.timedelta(days=1),
        limit=limit,
    )


def test_suggestions_put_the_residents_wish_first():
    wish = {"date": DAY + dt.timedelta(days=1), "period": "pm"}
    options = suggest(preferred=[wish])
    assert options[0].matches_preference
    assert (
        options[0].start.date() == wish["date"] and options[0].start >= planning.day_frame(CITY, wish["date"]).lunch_end
    )
    assert not any(o.matches_preference for o in options[1:])


def test_suggestions_prefer_days_where_the_car_is_already_nearby():
    yamada = CITY.district("yamada")
    busy = {
        ("crew-1", DAY + dt.timedelta(days=1)): [
            planning.Stop("v", yamada, at("09:30") + dt.timedelta(days=1), at("10:45") + dt.timedelta(days=1))
        ]
    }
    options = suggest(stops=busy)
    assert options[0].start.date() == DAY + dt.timedelta(days=1)
    assert options[0].added_drive_minutes < 2 * 53


def test_suggestions_skip_days_that_are_not_working_days_and_offer_one_per_half_day():
    saturday = dt.date(2026, 12, 5)
    options = suggest(days=[saturday, DAY])
    assert {o.start.date() for o in options} == {DAY}
    assert sorted(FRAME.period(o.start) for o in options) == ["am", "pm"]


@pytest.mark.parametrize("persons", [1, 3, 10])
def test_every_household_size_gets_an_offer_on_an_empty_day(persons):
    assert suggest(duration=CITY.visits.duration_minutes(persons))
