"""Asking booking for contact details at the moment of use, so events never carry them."""

from __future__ import annotations

import logging
from typing import Any

import eventlet

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5


class ContactUnavailable(Exception):
    """Booking did not answer in time, failed, or does not know the booking."""


def contact(booking_rpc: Any, booking_id: str, identity: dict) -> dict:
    """One booking's contact, for the service itself (`identity`: shared.rpc_identity.for_service)."""
    try:
        with eventlet.Timeout(TIMEOUT_SECONDS):
            found = booking_rpc.get_contact(booking_id, identity)
    except (eventlet.Timeout, Exception) as error:
        raise ContactUnavailable(type(error).__name__) from None
    if found is None:
        raise ContactUnavailable("unknown booking")
    return found


def contacts(booking_rpc: Any, booking_ids: list[str], identity: dict, details: bool = False) -> dict[str, dict] | None:
    """Contacts by booking id for the staff member whose token `identity` carries
    (shared.rpc_identity.for_staff; booking verifies it and records the read), or None when booking
    is away (callers show the list without them). `details`: also the address, needs and
    applicants, for the crew at the door."""
    if not booking_ids:
        return {}
    try:
        with eventlet.Timeout(TIMEOUT_SECONDS):
            return booking_rpc.get_contacts(booking_ids, identity, details)
    except (eventlet.Timeout, Exception) as error:
        log.warning("contacts unavailable: %s", type(error).__name__)
        return None
