"""Scheduling through the running services: two receptionists fixing clashing windows at the same
moment, and a batch plan made by the optimiser's worker process inside the service, then fixed."""

from __future__ import annotations

import threading

import pytest
import requests

from shared import municipality, workcalendar
from tests.bus import wait_until
from tests.factories import booking_body, signed_in, working_day

pytestmark = pytest.mark.e2e

DISTRICTS = {"himeki": ("885-0021", "姫城"), "takazaki": ("889-4500", "高崎"), "yamada": ("889-1600", "山田")}


def book(stack, district: str) -> dict:
    postal_code, name = DISTRICTS[district]
    body = booking_body(address={"postal_code": postal_code, "district": name, "line": "1-2-3"})
    answer = signed_in(stack).post(f"{stack.url('booking')}/api/v1/bookings", json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    booking_id = answer.json()["booking_id"]

    def visit():
        found = (
            signed_in(stack)
            .get(f"{stack.url('scheduling')}/api/v1/visits", params={"booking_id": booking_id}, timeout=5)
            .json()["visits"]
        )
        return found[0] if found else None

    return wait_until(visit)


def cancel(stack, visit: dict) -> None:
    """Cancel the visit's booking and wait until scheduling has let the visit go."""
    answer = signed_in(stack).post(
        f"{stack.url('booking')}/api/v1/bookings/{visit['booking_id']}/cancel",
        json={"reason": "resident_request"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    wait_until(
        lambda: (
            signed_in(stack)
            .get(f"{stack.url('scheduling')}/api/v1/visits/{visit['visit_id']}", timeout=5)
            .json()["status"]
            == "cancelled"
        )
    )


def fix(stack, visit_id: str, start: str, crew_id: str = "crew-1") -> requests.Response:
    return signed_in(stack).post(
        f"{stack.url('scheduling')}/api/v1/visits/{visit_id}/slot",
        json={"start": start, "crew_id": crew_id},
        timeout=10,
    )


def test_two_receptionists_fixing_clashing_windows_at_once_exactly_one_wins(stack):
    days = workcalendar.working_days(working_day(5), 5, municipality.load().calendar)
    for day in days:  # five distinct days, each empty
        first, second = book(stack, "takazaki"), book(stack, "himeki")
        start = f"{day.isoformat()}T10:00:00+09:00"
        answers: dict[str, requests.Response] = {}
        ready = threading.Barrier(2)

        def phone(visit: dict, answers: dict = answers, ready: threading.Barrier = ready, start: str = start) -> None:
            ready.wait()
            answers[visit["visit_id"]] = fix(stack, visit["visit_id"], start)

        callers = [threading.Thread(target=phone, args=(v,)) for v in (first, second)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        codes = sorted(a.status_code for a in answers.values())
        # One wins; the other gets 409 with fresh offers, or 503 (the crew's day was locked) and
        # then 409 when the receptionist tries again.
        assert codes[0] == 200 and codes[1] in (409, 503), codes
        loser = next(v for v, a in answers.items() if a.status_code != 200)
        again = fix(stack, loser, start)
        assert again.status_code == 409 and again.json()["suggestions"], again.text
        # Leave the stack as we found it: which household won is chance, and a fixed visit or a
        # waiting one left here would shape the next test's batch plan.
        for visit in (first, second):
            cancel(stack, visit)


def test_a_batch_plan_made_in_the_service_can_be_fixed_as_proposed(stack):
    waiting = [book(stack, d) for d in ("takazaki", "yamada", "himeki", "takazaki")]
    # Only ours wait, on empty days: the grouping below is then what the least driving asks for.
    # With other requests waiting and visits fixed at 10:00, a full north day can make it cheaper
    # to take one household north alone (a CI run met that after a race left four takazaki waiting).
    made = signed_in(stack).post(f"{stack.url('scheduling')}/api/v1/plans", json={"days": 10}, timeout=120)
    assert made.status_code == 201, made.text
    plan = made.json()
    proposed = {p["visit_id"]: p for p in plan["proposals"]}
    assert {v["visit_id"] for v in waiting} == set(proposed)
    for proposal in plan["proposals"]:
        answer = fix(stack, proposal["visit_id"], proposal["window_start"], proposal["crew_id"])
        assert answer.status_code == 200, answer.text
    # No trip north for one household: every day that goes north serves two or more up there.
    north = {"takazaki", "yamada"}
    for visit in waiting:
        if visit["district"] not in north:
            continue
        proposal = proposed[visit["visit_id"]]
        sheet = (
            signed_in(stack)
            .get(f"{stack.url('scheduling')}/api/v1/crews/{proposal['crew_id']}/days/{proposal['date']}", timeout=10)
            .json()
        )
        assert sheet["route_optimised"]
        districts = [stop["district"] for stop in sheet["stops"]]
        assert sum(d in north for d in districts) >= 2, (districts, plan["proposals"])
    assert signed_in(stack).get(f"{stack.url('scheduling')}/health/ready", timeout=5).status_code == 200
