"""Feasibility rules on small hand-checked cases (Miyakonojo configuration, one crew)."""

import datetime as dt

import pytest

from services.scheduling import planning, routes
from services.scheduling.travel import StraightLineTravel, default_model, distance_km
from shared import municipality
from shared.municipality import Place, TravelRules

CITY = municipality.load()
TRAVEL = default_model(CITY)
DAY = dt.date(2026, 12, 1)  # a Tuesday, a working day
HIMEKI = CITY.district("himeki")  # next to city hall: 10 minutes (the minimum)
TAKAZAKI = CITY.district("takazaki")  # the far north: 53 minutes, and 53 to Himeki
YAMADA = CITY.district("yamada")  # next to Takazaki: 17 minutes from it, 53 from city hall


def at(hhmm: str, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=CITY.timezone)


def minute(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def promised(place, window_start, duration, visit_id="v"):
    """A visit already fixed, promised the 30-minute window from `window_start`."""
    return routes.RouteStop(visit_id, place, minute(window_start), minute(window_start) + 30, duration)


def fits(stops, place, window_start, duration):
    """(estimated start "HH:MM", added drive) of a new visit promised this window, or None."""
    found = planning.fit(stops, place, at(window_start), duration, CITY, TRAVEL)
    return None if found is None else (found[0].strftime("%H:%M"), found[1])


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
    assert fits([], TAKAZAKI, "09:30", 75) == ("09:30", 2 * 53)


def test_the_crew_arrives_within_the_window_after_driving_from_the_depot():
    assert fits([], TAKAZAKI, "09:00", 75) == ("09:23", 106)  # 8:30 + 53 min, inside 9:00-9:30
    assert fits([], TAKAZAKI, "08:53", 75) == ("09:23", 106)  # the window's last minute
    assert fits([], TAKAZAKI, "08:52", 75) is None


def test_the_crew_must_be_back_at_the_depot_by_closing():
    assert fits([], TAKAZAKI, "15:00", 82) == ("15:00", 106)  # 16:22 + 53 = 17:15
    assert fits([], TAKAZAKI, "15:00", 83) is None


def test_visits_do_not_overlap_lunch_unless_longer_than_either_half_day():
    assert fits([], HIMEKI, "10:45", 75) == ("10:45", 20)  # ends at 12:00
    assert fits([], HIMEKI, "11:00", 75) is None  # would run into lunch; after it is past the window
    assert fits([], HIMEKI, "12:30", 60) == ("13:00", 20)  # waits for lunch to end, still in the window
    assert fits([], HIMEKI, "12:15", 60) is None
    assert fits([], HIMEKI, "08:45", 375) == ("08:45", 20)  # 6 h 15: a large group, lunch on site


def test_outside_office_hours_is_refused():
    assert fits([], HIMEKI, "08:00", 60) is None  # the crew cannot be there by 8:30
    assert fits([], HIMEKI, "16:30", 60) is None


def test_a_promised_window_may_absorb_a_new_visit_before_it():
    takazaki = [promised(TAKAZAKI, "10:00", 75)]  # may start as late as 10:30
    assert fits(takazaki, HIMEKI, "09:00", 30) == ("09:00", 10 + 53 - 53)  # 9:30 + 53 = 10:23
    assert fits(takazaki, HIMEKI, "09:00", 45) is None  # 9:45 + 53 = 10:38: Takazaki's promise broken


def test_a_clash_with_another_visit_or_its_drive_is_refused():
    takazaki = [promised(TAKAZAKI, "10:00", 75)]  # 10:00-11:15 at the earliest
    assert fits(takazaki, HIMEKI, "10:30", 30) is None  # 11:15 + 53 = 12:08: past 11:00
    assert fits(takazaki, HIMEKI, "12:00", 30) is None  # arrives 12:08: lunch, then past 12:30
    assert fits(takazaki, HIMEKI, "13:00", 30) == ("13:00", 53 + 10 - 53)


def test_added_drive_is_the_detour_from_the_existing_route():
    takazaki = [promised(TAKAZAKI, "09:30", 75)]  # 9:30-10:45
    assert fits(takazaki, YAMADA, "11:00", 45) == ("11:02", 17 + 53 - 53)  # 10:45 + 17
    # The same visit on a day of its own costs the trip from city hall and back (2 x 53 to Yamada's
    # centre): the detour of 17 is what slotting it after Takazaki saves.
    assert fits([], YAMADA, "11:00", 45)[1] == 2 * 53


def test_a_route_that_breaks_its_own_promises_is_infeasible():
    clash = [promised(TAKAZAKI, "10:00", 75), promised(HIMEKI, "10:30", 30, "w")]
    timeline = routes.Timeline(clash, routes.day_of(CITY), CITY.depot, routes.CachedTravel(TRAVEL))
    assert not timeline.feasible
    assert timeline.insertion(YAMADA, minute("15:00"), minute("15:30"), 30) is None


def test_the_timeline_knows_how_late_each_stop_may_start():
    stops = [promised(HIMEKI, "09:00", 60), promised(TAKAZAKI, "11:00", 60, "w")]
    timeline = routes.Timeline(stops, routes.day_of(CITY), CITY.depot, routes.CachedTravel(TRAVEL))
    assert timeline.feasible
    assert timeline.starts == [minute("09:00"), minute("11:00")]
    # Takazaki's window runs to 11:30, but an hour from 11:30 would run into lunch: 11:00 at the
    # latest. Himeki must then leave by 10:07 (53 min to drive): start its hour by 9:07.
    assert timeline.latest == [minute("09:07"), minute("11:00")]
    assert timeline.drive_minutes() == 10 + 53 + 53


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
    assert options[0].start.date() == wish["date"] and options[0].estimated_start >= at("13:00", wish["date"])
    assert not any(o.matches_preference for o in options[1:])


def test_suggestions_prefer_days_where_the_car_is_already_nearby():
    busy = {("crew-1", DAY + dt.timedelta(days=1)): [promised(YAMADA, "09:30", 75)]}
    options = suggest(stops=busy)
    assert options[0].start.date() == DAY + dt.timedelta(days=1)
    assert options[0].added_drive_minutes < 2 * 53


def test_suggestions_skip_days_that_are_not_working_days_and_offer_one_per_half_day():
    saturday = dt.date(2026, 12, 5)
    options = suggest(days=[saturday, DAY])
    assert {o.start.date() for o in options} == {DAY}
    assert sorted("am" if o.estimated_start < at("12:00") else "pm" for o in options) == ["am", "pm"]


@pytest.mark.parametrize("persons", [1, 3, 10])
def test_every_household_size_gets_an_offer_on_an_empty_day(persons):
    assert suggest(duration=CITY.visits.duration_minutes(persons))


def test_the_openings_of_a_day_are_exactly_the_windows_that_fit():
    """The constant-time scan must agree with checking every slot of the grid one by one."""
    import random

    rng = random.Random(5)
    cached = routes.CachedTravel(TRAVEL)
    day = routes.day_of(CITY)
    for _ in range(40):
        stops: list[routes.RouteStop] = []
        for number in range(rng.randrange(5)):
            place, duration = rng.choice(CITY.districts), rng.choice((45, 75, 105))
            timeline = routes.Timeline(sorted(stops, key=lambda s: s.window_start), day, CITY.depot, cached)
            starts = [t for t, _, _ in timeline.openings(place, duration, 30, 15, day.start)]
            if starts:
                start = rng.choice(starts)
                stops.append(routes.RouteStop(f"v{number}", place, start, start + 30, duration))
        stops.sort(key=lambda s: s.window_start)
        timeline = routes.Timeline(stops, day, CITY.depot, cached)
        assert timeline.feasible
        place, duration = rng.choice(CITY.districts), rng.choice((45, 75, 105, 165))
        not_before = rng.choice((day.start, 11 * 60))
        brute = [
            (t, *found)
            for t in range(day.start, day.end, 15)
            if t >= not_before and (found := timeline.insertion(place, t, t + 30, duration))
        ]
        assert timeline.openings(place, duration, 30, 15, not_before) == brute


def test_a_municipality_may_supply_its_own_drive_minutes():
    import yaml

    data = yaml.safe_load(municipality.settings.municipality_config_path().read_text(encoding="utf-8"))
    data["travel"]["matrix"] = {"depot": {"takazaki": 61}, "takazaki": {"yamada": 12}}
    city = municipality.parse(data)
    model = default_model(city)
    takazaki, yamada = city.district("takazaki"), city.district("yamada")
    assert model.minutes(city.depot, takazaki) == model.minutes(takazaki, city.depot) == 61
    assert model.minutes(yamada, takazaki) == 12
    assert model.minutes(city.depot, yamada) == 53  # not given: the straight-line estimate
    assert planning.fit([], takazaki, at("09:31"), 75, city, model) == (at("09:31"), 2 * 61)


def test_no_offer_on_a_crew_day_off():
    import dataclasses

    crew = dataclasses.replace(CITY.crews[0], days_off=frozenset({DAY}))
    city = dataclasses.replace(CITY, crews=(crew,))
    options = planning.suggest(
        city=city,
        travel=TRAVEL,
        place=HIMEKI,
        duration_minutes=45,
        preferred=[{"date": DAY, "period": "any"}],
        days=[DAY, DAY + dt.timedelta(days=1)],
        stops_by_crew_day={},
        not_before=at("00:00") - dt.timedelta(days=1),
    )
    assert options and all(o.start.date() != DAY for o in options)


def test_a_crew_goes_out_only_with_a_car_that_is_not_in_maintenance():
    import yaml

    data = yaml.safe_load(municipality.settings.municipality_config_path().read_text(encoding="utf-8"))
    monday, tuesday = dt.date(2026, 12, 7), dt.date(2026, 12, 8)
    data["cars"] = [{"id": "car-1", "maintenance_days": [monday.isoformat(), tuesday.isoformat()]}, {"id": "car-2"}]
    data["car_assignments"] = {tuesday.isoformat(): {"crew-1": "car-2"}}
    city = municipality.parse(data)
    [crew] = city.crews
    assert not city.crew_goes_out(crew, monday)  # its car is in the garage
    assert city.car_of(crew, tuesday) == "car-2" and city.crew_goes_out(crew, tuesday)  # lent another
    assert city.crew_goes_out(crew, dt.date(2026, 12, 9))
    data["car_assignments"] = {tuesday.isoformat(): {"crew-1": "car-2", "crew-2": "car-2"}}
    with pytest.raises(ValueError, match="one car given to two crews"):
        municipality.parse(data)
