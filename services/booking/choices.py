"""A resident's choices on their own page, asked of scheduling by RPC: the windows they may pick
(offers from the waiting list, the best current windows while unscheduled), picking one, and asking
for other days. Booking has checked the private link; scheduling only hears the booking id.

Every call is bounded in time; a pick also carries a deadline, so a call that waited in the queue
while scheduling was away does nothing when it finally arrives (the resident was told to try again)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared import clock
from shared.asking import ask, deadline
from shared.http import ApiError, TemporarilyUnavailable, not_found


def offers(scheduling: Any, booking_id: str) -> dict:
    return ask(scheduling.offers_for_booking, booking_id, 5)


def pick(scheduling: Any, booking_id: str, choice: dict) -> dict:
    by = deadline()
    start = clock.iso(choice["start"]) if choice.get("start") else ""
    answer = ask(scheduling.fix_for_booking, booking_id, choice.get("crew_id") or "", start, choice.get("offer_id"), by)
    if answer["result"] == "fixed":
        return answer
    if answer["result"] == "gone":
        raise ApiError(
            409,
            "window_gone",
            "That window has just been taken or no longer fits; choose another.",
            "申し訳ありません。その日時はほかの方に決まったか、空きがなくなりました。ほかの日時をお選びください。",
        )
    if answer["result"] == "unknown":  # no visit yet: scheduling has not had the booking's event
        raise not_found("visit")
    if answer["result"] == "wrong_status":
        raise ApiError(
            409,
            "wrong_status",
            "The visit's date is already set or the booking is closed.",
            "このお申し込みは、日時がすでに決まっているか、受付が終わっています。",
        )
    raise TemporarilyUnavailable(f"scheduling answered {answer['result']}")


def slot_payload(booking_id: str, visit: dict) -> dict:
    """A fixed visit, as scheduling's view shows it, in the shape slot_fixed carries (for note_slot)."""
    slot = visit["slot"]
    return {
        "visit_id": visit["visit_id"],
        "booking_id": booking_id,
        **{key: dt.datetime.fromisoformat(slot[key]) for key in ("start", "window_start", "window_end")},
        "venue": visit.get("venue"),
    }


def prefer(scheduling: Any, booking_id: str, preferred: list[dict]) -> None:
    wishes = [{"date": p["date"].isoformat(), "period": p["period"]} for p in preferred]
    answer = ask(scheduling.prefer_dates, booking_id, wishes)
    if answer["result"] != "saved":
        raise ApiError(
            409,
            "wrong_status",
            "Other days can be asked only while the date is not set.",
            "日時が決まった後は、ご希望の日を変えられません。お電話でご相談ください。",
        )
