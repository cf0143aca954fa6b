"""Key rotation: re-seals every booking's personal data (and every short referral still waiting)
under the active data key and recomputes its phone hash, so the old key can then be removed from
DATA_KEYS. `python -m services.liaison.rekey` does the same for the liaison channel's chairs and
referral names.

    python -m services.booking.rekey            # re-seal what is not under the active key
    python -m services.booking.rekey --all      # also after changing the hash key

Roll out the new key set first (the new key active, the old one still listed), run this (a
Kubernetes Job with booking's environment), then roll out the key set without the old key. Each
booking is rewritten only if it has not changed since it was read, so it is safe to run while the
service takes bookings, and to run again."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from services.booking.bookings import household_of, sealed_household
from shared import sealing
from shared.db import get_database
from shared.sealing import Rekeyed, reseal_field


def rekey(db: Any, everything: bool = False) -> Rekeyed:
    ring = sealing.keyring()
    result = Rekeyed()
    for booking in db.bookings.find({"personal": {"$ne": None}}, {"outbox": 0}):
        if ring.is_current(booking["personal"]) and not everything:
            result.current += 1
            continue
        fields = sealed_household(booking["_id"], household_of(booking))
        written = db.bookings.update_one(
            {"_id": booking["_id"], "personal.nonce": booking["personal"]["nonce"]},
            {"$set": {"personal": fields["personal"], "phone_hash": fields["phone_hash"]}},
        )
        if written.modified_count == 1:
            result.resealed += 1
        else:
            result.changed_meanwhile += 1  # erased or re-sealed by someone else: nothing to do
    # The crews' notes, sealed with the household (bookings.keep_visit_note).
    for booking in db.bookings.find({"visit_notes.0": {"$exists": True}}, {"visit_notes": 1}):
        notes = booking["visit_notes"]
        if all(ring.is_current(n["sealed"]) for n in notes) and not everything:
            continue
        resealed = [{**n, "sealed": ring.seal(ring.open(n["sealed"], booking["_id"]), booking["_id"])} for n in notes]
        db.bookings.update_one({"_id": booking["_id"], "visit_notes": notes}, {"$set": {"visit_notes": resealed}})
    # Short referrals still waiting for reception (services/booking/short_referrals.py).
    waiting = reseal_field(
        db.short_referrals, "sealed", everything, lambda opened: {"phone_hash": ring.lookup_hash(opened["phone"])}
    )
    return result + waiting


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.booking.rekey", description=__doc__.split("\n")[0])
    parser.add_argument("--all", action="store_true", help="re-seal and re-hash every booking")
    args = parser.parse_args(argv)
    result = rekey(get_database("booking"), everything=args.all)
    print(
        f"re-sealed {result.resealed}, already current {result.current}, "
        f"changed meanwhile {result.changed_meanwhile} (active key {sealing.keyring().active})"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
