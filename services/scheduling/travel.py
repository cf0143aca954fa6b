"""Drive times between places, behind one interface so a municipality can supply its own."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from shared.municipality import District, Municipality, Place, TravelRules

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Household(District):
    """A household's place: its district's centre (no address is geocoded), but a place of its own,
    so that two households of one district are two stops apart, never 0 minutes (the minimum
    applies: parking, finding the house). Equal only to the same visit's household."""

    visit_id: str


def household_of(district: District, visit_id: str) -> Household:
    return Household(name=district.name, lat=district.lat, lon=district.lon, id=district.id, visit_id=visit_id)


class TravelModel(Protocol):
    def minutes(self, origin: Place, destination: Place) -> int: ...


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


class StraightLineTravel:
    """Straight-line distance x road factor at an average speed, never under a minimum (parking,
    finding the house), even between two households of one district. Staying put (the same place:
    the depot, one hall, one household) costs nothing."""

    def __init__(self, rules: TravelRules) -> None:
        self.rules = rules

    def minutes(self, origin: Place, destination: Place) -> int:
        if origin is destination or origin == destination:
            return 0
        hours = distance_km(origin, destination) * self.rules.road_factor / self.rules.average_speed_kmh
        return max(self.rules.minimum_minutes, math.ceil(hours * 60))


class MatrixTravel:
    """A municipality's own drive minutes between places, keyed by district id ("depot" for the
    depot), in both directions unless both are given; other pairs fall back on another model."""

    def __init__(self, matrix: dict[str, dict[str, int]], fallback: TravelModel, depot: Place) -> None:
        self.matrix, self.fallback, self.depot = matrix, fallback, depot

    def _key(self, place: Place) -> str:
        return "depot" if place is self.depot else getattr(place, "id", place.name)

    def minutes(self, origin: Place, destination: Place) -> int:
        if origin is destination or origin == destination:
            return 0
        a, b = self._key(origin), self._key(destination)
        if a == b:  # two households of one district: the matrix's district-to-district times do not apply
            return self.fallback.minutes(origin, destination)
        known = self.matrix.get(a, {}).get(b, self.matrix.get(b, {}).get(a))
        return known if known is not None else self.fallback.minutes(origin, destination)


def default_model(city: Municipality) -> TravelModel:
    """The municipality's matrix when its configuration has one, else straight-line distance."""
    straight = StraightLineTravel(city.travel)
    if city.travel.matrix:
        matrix = {origin: dict(row) for origin, row in city.travel.matrix}
        return MatrixTravel(matrix, straight, city.depot)
    return straight
