"""What booking's RPC methods accept from other services: booking ids of the documented form,
bounded lists, an actor naming a staff member in a known role. Anything else is refused before it
reaches a query or the audit log (a dict as an id would match any booking)."""

from __future__ import annotations

from typing import Any

from shared.auth import ROLES
from shared.validation import contains_individual_number, has_hidden_characters, is_booking_id

MAX_CONTACTS = 500  # a crew's day or a day's call list is a few dozen


def actor_ok(actor: Any) -> bool:
    if actor is None:
        return True
    if not isinstance(actor, dict) or set(actor) - {"subject", "role", "purpose"}:
        return False
    subject, role, purpose = actor.get("subject"), actor.get("role"), actor.get("purpose", "")
    return (
        isinstance(subject, str)
        and 0 < len(subject) <= 128
        and role in ROLES
        and isinstance(purpose, str)
        and len(purpose) <= 100
    )


def contacts_request_ok(booking_ids: Any, actor: Any, details: Any) -> bool:
    return (
        isinstance(booking_ids, list)
        and len(booking_ids) <= MAX_CONTACTS
        and all(is_booking_id(b) for b in booking_ids)
        and actor_ok(actor)
        and isinstance(details, bool)
    )


MAX_NOTE = 500


def note_ok(booking_id: Any, visit_id: Any, result_id: Any, note: Any, actor: Any) -> bool:
    return (
        is_booking_id(booking_id)
        and isinstance(visit_id, str)
        and 0 < len(visit_id) <= 64
        and isinstance(result_id, str)
        and 0 < len(result_id) <= 64
        and isinstance(note, str)
        and 0 < len(note) <= MAX_NOTE
        and not contains_individual_number(note)
        and not has_hidden_characters(note)
        and actor is not None
        and actor_ok(actor)
    )
