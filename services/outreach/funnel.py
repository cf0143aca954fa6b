"""The outreach funnel: from referral to people applied, per channel and district.

One document per booking collects its story from the events; every update is idempotent ($set of
facts, visit results keyed by event id), so a redelivered event changes nothing. Figures are by
cohort: bookings received in the period, and what became of them so far; referrals by the day
they arrived."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from shared.events import VISITED_OUTCOMES, Event

STAGES = ("referred", "booked", "slot_fixed", "visited", "persons_applied", "slots_recovered")


def record_referral(db: Any, event: Event) -> None:
    referral = event.payload
    db.referrals.update_one(
        {"_id": referral["referral_id"]},
        {"$setOnInsert": {"channel": referral["channel"], "received_at": event.occurred_at}},
        upsert=True,
    )


def record_booking(db: Any, event: Event) -> None:
    request = event.payload
    db.funnel.update_one(
        {"_id": request["booking_id"]},
        {
            "$set": {
                "channel": request["channel"],
                "district": request["district"],
                "referral_id": request["referral_id"],
                "household_size": request["household_size"],
                "booked_at": event.occurred_at,
            }
        },
        upsert=True,
    )


def record_slot(db: Any, event: Event) -> None:
    """The first slot fixed; and whether a slot came from the waiting list (a window another
    household freed: slot_fixed version 2's `recovered`)."""
    update: dict[str, Any] = {"$min": {"slot_fixed_at": event.occurred_at}}
    if event.payload.get("recovered"):
        update["$set"] = {"recovered": True}
        update["$min"]["recovered_at"] = event.occurred_at
    db.funnel.update_one({"_id": event.payload["booking_id"]}, update, upsert=True)


def record_visit(db: Any, event: Event) -> None:
    """Each visit result under its event id; its day also in `visit_days`, which the report's
    range query reads (services/outreach/report.py)."""
    done = event.payload
    day = done["date"].isoformat()
    visit = {"outcome": done["outcome"], "persons": done["persons_applied"], "date": day}
    db.funnel.update_one(
        {"_id": done["booking_id"]},
        {
            "$set": {f"visits.{event.event_id}": visit},
            "$addToSet": {"visit_days": day},
        },
        upsert=True,
    )


def record_cancellation(db: Any, event: Event) -> None:
    db.funnel.update_one(
        {"_id": event.payload["booking_id"]}, {"$min": {"cancelled_at": event.occurred_at}}, upsert=True
    )


def _bounds(first: dt.date, last: dt.date, tz: Any) -> tuple[dt.datetime, dt.datetime]:
    return (
        dt.datetime.combine(first, dt.time(), tzinfo=tz),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz),
    )


def figures(db: Any, first: dt.date, last: dt.date, tz: Any) -> dict:
    start, end = _bounds(first, last, tz)
    by_channel: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAGES, 0))
    by_district: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAGES[1:], 0))
    for referral in db.referrals.find({"received_at": {"$gte": start, "$lt": end}}):
        by_channel[referral["channel"]]["referred"] += 1
    for story in db.funnel.find({"booked_at": {"$gte": start, "$lt": end}}):
        visits = (story.get("visits") or {}).values()
        counts = {
            "booked": 1,
            "slot_fixed": 1 if story.get("slot_fixed_at") else 0,
            "visited": 1 if any(v["outcome"] in VISITED_OUTCOMES for v in visits) else 0,
            "persons_applied": sum(v["persons"] for v in visits),
            "slots_recovered": 1 if story.get("recovered") else 0,
        }
        for key, value in counts.items():
            by_channel[story["channel"]][key] += value
            by_district[story["district"]][key] += value
    total = {stage: sum(c[stage] for c in by_channel.values()) for stage in STAGES}
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "basis": "bookings received in the period and what became of them; referrals by arrival",
        "total": total,
        "channels": [{"channel": name, **counts} for name, counts in sorted(by_channel.items())],
        "districts": [{"district": name, **counts} for name, counts in sorted(by_district.items())],
    }
