"""A resident's pick of a window on their own page (through booking, which checked the private
link): an offer from the waiting list, or one of the current suggestions, fixed under the same
rules and lease as reception's (slots.fix). Each way it can fail is an answer, never an error:
booking turns it into the resident's message."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.scheduling import slots, visits, waitlist
from services.scheduling.locks import Busy
from shared import clock
from shared.asking import passed
from shared.municipality import Municipality
from shared.validation import is_booking_id


def pick(
    db: Any, booking_id: Any, crew_id: Any, start: Any, offer_id: Any, deadline: Any, city: Municipality
) -> tuple[dict, slots.Fixed | None, bool]:
    """(the answer, the fix if one was made, whether it was a waiting-list offer taken)."""
    late = passed(deadline)
    if late:
        return {"result": "expired"}, None, False
    try:
        moment = dt.datetime.fromisoformat(str(start)) if start else None
    except ValueError:
        moment = None
    if late is None or (start and moment is None):
        return {"result": "gone"}, None, False  # a malformed time names no window
    if not is_booking_id(booking_id) or not isinstance(offer_id, str | None) or not isinstance(crew_id, str):
        return {"result": "unknown"}, None, False
    visit = db.visits.find_one({"booking_id": booking_id}, {"outbox": 0})
    offer = db.offers.find_one({"_id": offer_id, "booking_id": booking_id}) if offer_id else None
    if visit is None:
        return {"result": "unknown"}, None, False
    if offer_id and offer is None:  # no such offer, or another booking's
        return {"result": "gone"}, None, False
    if offer is not None:
        if offer["status"] != "open" or clock.aware(offer["expires_at"]) <= clock.now():
            return {"result": "gone"}, None, False
        crew_id, moment = offer["crew_id"], visits.as_local(offer["start"], city)
    elif moment is None:
        return {"result": "gone"}, None, False
    try:
        fixed = slots.fix(db, visit["_id"], crew_id, moment, city, recovered=offer is not None)
    except (slots.DoesNotFit, slots.CrewOff, slots.NotAWorkingTime, KeyError):
        if offer is not None:
            waitlist.close(db, offer, taken=False)
        return {"result": "gone"}, None, False
    except slots.WrongStatus as error:
        return {"result": "wrong_status", "status": error.status}, None, False
    except (Busy, LookupError):
        return {"result": "busy"}, None, False
    if offer is not None:
        waitlist.close(db, offer, taken=True)
    return {"result": "fixed", "visit": visits.view(fixed.visit, city)}, fixed, offer is not None
