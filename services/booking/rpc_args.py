"""What booking's RPC methods accept from other services: booking ids of the documented form,
bounded lists, and who asks as a verified identity (shared.rpc_identity), never a plain `actor`
that the caller writes. Anything else is refused before it reaches a query or the audit log (a dict
as an id would match any booking)."""

from __future__ import annotations

from typing import Any

from shared.validation import contains_individual_number, has_hidden_characters, is_booking_id

MAX_CONTACTS = 500  # a crew's day or a day's call list is a few dozen


def booking_ids_ok(booking_ids: Any) -> bool:
    if not isinstance(booking_ids, list) or len(booking_ids) > MAX_CONTACTS:
        return False
    return all(is_booking_id(b) for b in booking_ids)


MAX_NOTE = 500


def note_ok(booking_id: Any, visit_id: Any, result_id: Any, note: Any) -> bool:
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
    )
