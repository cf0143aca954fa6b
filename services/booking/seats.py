"""Seats in hall sessions (集団申請), asked of scheduling by RPC: scheduling owns the session and
takes the seat in one conditional write; booking takes it before storing the sign-up and gives it
back if the booking cannot be stored. A call bounded in time also carries a deadline, so a call
that waited in the queue while scheduling was away takes nothing when it finally arrives."""

from __future__ import annotations

import logging
from typing import Any

from shared.asking import ask, deadline
from shared.http import TemporarilyUnavailable, invalid_field

log = logging.getLogger(__name__)

REFUSALS = {  # scheduling's answer: (English, Japanese)
    "full": ("The session is full.", "この会は定員に達しました。ほかの日の会か、ご自宅への訪問をご案内ください。"),
    "closed": ("The session no longer takes sign-ups.", "この会の申込は締め切りました。"),
    "unknown": ("Unknown session.", "申込先の会が見つかりません。"),
}


def take(scheduling: Any, session_id: str, booking_id: str, persons: int) -> dict:
    """The session the household is seated in, or a 422 on `session_id` saying why not."""
    answer = ask(scheduling.take_session_seat, session_id, booking_id, persons, deadline())
    if answer["result"] == "taken":
        return answer["session"]
    if answer["result"] in REFUSALS:
        english, japanese = REFUSALS[answer["result"]]
        if answer["result"] == "full" and answer.get("seats_left"):
            english += f" Seats left: {answer['seats_left']}."
            japanese += f"（残り{answer['seats_left']}人分です）"
        raise invalid_field("session_id", english, japanese)
    raise TemporarilyUnavailable(f"scheduling answered {answer['result']}")


def give_back(scheduling: Any, session_id: str, booking_id: str) -> None:
    """Best effort: a seat whose booking never came is freed by scheduling after an hour
    (sessions.release_unclaimed)."""
    try:
        ask(scheduling.release_session_seat, session_id, booking_id)
    except Exception:  # the booking's own failure is the one to report
        log.warning("seat of booking %s in session %s not given back", booking_id, session_id)
