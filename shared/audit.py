"""The audit log of personal data: every read and change of a booking's personal data by staff, as
who (subject and role), what (action, bookings, the route or screen), and when.

Booking holds the personal data, so booking keeps the log, in its own append-only `audit`
collection: this code only ever inserts, and in production the service's MongoDB user should be
granted insert and find on it, never update or remove (docs/security.md). Other services that show
personal data (a crew's day sheet, the call list) obtain it from booking and name the staff member
they act for, so booking records the read.

Entries form a chain that shows tampering: each has the next number (`seq`, a unique index) and a
MAC (HMAC-SHA256 under the chain's own key, which the database does not hold) over its fields and
the previous entry's MAC. Each entry names its key (`key`): the audit keys live beside booking's
data keys (shared.sealing) and rotate apart from them; entries from before they existed carry no
name and are checked with the key derived from the hash key (`derived-v1`). Someone who can write
to the database but has not the keys cannot change, remove or insert an entry without
`python -m deploy.tools.audit verify` finding the break.

    python -m deploy.tools.audit verify     # MONGODB_URI and DATA_KEYS as booking's; exit 1 on a break
    python -m deploy.tools.audit verify --checkpoint SEQ:MAC   # and that entry SEQ is still there

Removing the newest entries leaves a chain that holds, so the newest number and MAC are also noted
outside the database every hour (booking's log line "audit checkpoint" and the gauge
`mynacar_audit_last_seq`, whose fall raises an alert).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from shared import clock, sealing
from shared.auth import Staff
from shared.db import is_duplicate_key
from shared.http import TemporarilyUnavailable

ACTIONS = ("read", "search", "change")
CHAIN_PURPOSE = b"mynacar audit chain v1"
MAX_ATTEMPTS = 20  # replicas racing for the next number
GENESIS = ""  # the `prev` of the first chained entry
_appending = threading.Lock()  # one append at a time per process; the unique seq settles replicas
# The newest (seq, MAC) this process appended, per database: the next append need not look it up
# (on the local stand-in a sorted look-up scans the whole log). Another replica's append makes our
# number collide, and then we read the log again.
_heads: dict[tuple[int, str], tuple[int, str]] = {}


DERIVED_KEY_ID = "derived-v1"  # entries without a `key`: signed before the chain had keys of its own


def chain_keys() -> dict[str, bytes]:
    """Every key an entry may name, by id."""
    ring = sealing.keyring()
    return {DERIVED_KEY_ID: hmac.new(ring.hash_key, CHAIN_PURPOSE, hashlib.sha256).digest(), **ring.audit_keys}


def signing_key() -> tuple[str, bytes]:
    """The key new entries are signed with: the active audit key, or the derived one without any."""
    ring = sealing.keyring()
    kid = ring.audit_active if ring.audit_keys else DERIVED_KEY_ID
    return kid, chain_keys()[kid]


def _moment(value: dt.datetime) -> str:
    """The stored instant as text: UTC, milliseconds (what MongoDB keeps of a datetime)."""
    return clock.aware(value).astimezone(dt.UTC).isoformat(timespec="milliseconds")


SIGNED_FIELDS = ("seq", "prev", "subject", "role", "purpose", "action", "booking_ids")


def mac_of(entry: dict, key: bytes) -> str:
    signed = {name: entry[name] for name in SIGNED_FIELDS}
    signed["at"] = _moment(entry["at"])
    if "key" in entry:  # entries signed under a named key sign its name too
        signed["key"] = entry["key"]
    text = json.dumps(signed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def actor(staff: Staff, purpose: str) -> dict:
    """Who is asking and why, as another service passes it along with an RPC."""
    return {"subject": staff.subject, "role": staff.role, "purpose": purpose}


def record(db: Any, who: dict, action: str, booking_ids: list[str], now: dt.datetime | None = None) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if not booking_ids and action != "search":
        return  # a read or change of nothing; a search that found nothing is still a look (recorded)
    moment = now or clock.now()
    entry = {
        "at": moment.replace(microsecond=moment.microsecond // 1000 * 1000),  # as stored
        "subject": str(who["subject"]),
        "role": str(who["role"]),
        "purpose": str(who.get("purpose", "")),
        "action": action,
        "booking_ids": list(booking_ids),
    }
    kid, key = signing_key()
    named = {"key": kid} if kid != DERIVED_KEY_ID else {}
    log_of = (id(db.client), db.name)
    with _appending:
        for _ in range(MAX_ATTEMPTS):
            head = _heads.get(log_of) or newest(db) or (0, GENESIS)
            chained = {**entry, **named, "seq": head[0] + 1, "prev": head[1]}
            mac = mac_of(chained, key)
            try:
                db.audit.insert_one({"_id": str(uuid.uuid4()), **chained, "mac": mac})
            except Exception as error:
                _heads.pop(log_of, None)
                if not is_duplicate_key(error):
                    raise
                continue  # another replica took the number: read the log again
            _heads[log_of] = (chained["seq"], mac)
            return
    raise TemporarilyUnavailable(f"no free audit number after {MAX_ATTEMPTS} attempts")


def verify(entries: Iterable[dict], keys: dict[str, bytes]) -> tuple[int, str | None]:
    """(entries checked, the first break or None), over entries in `seq` order, each checked with
    the key it names. The first entry checked may follow removed older ones (kept out of a
    retention purge); every later link holds."""
    checked, expected_seq, prev = 0, None, None
    for entry in entries:
        seq = entry["seq"]
        if any(name not in entry for name in (*SIGNED_FIELDS, "at", "mac")):
            return checked, f"entry {seq} was changed (a field is gone)"
        if expected_seq is not None and seq != expected_seq:
            return checked, f"entry {expected_seq} is missing (found {seq} next)"
        if prev is not None and entry["prev"] != prev:
            return checked, f"entry {seq} does not follow entry {seq - 1}"
        key = keys.get(entry.get("key", DERIVED_KEY_ID))
        if key is None:
            return checked, f"entry {seq} names an audit key that is not held ({entry.get('key')!r})"
        if not hmac.compare_digest(entry["mac"], mac_of(entry, key)):
            return checked, f"entry {seq} was changed"
        checked, expected_seq, prev = checked + 1, seq + 1, entry["mac"]
    return checked, None


def view(entry: dict) -> dict:
    return {
        "at": clock.iso(entry["at"]),
        "subject": entry["subject"],
        "role": entry["role"],
        "purpose": entry["purpose"],
        "action": entry["action"],
        "booking_ids": entry["booking_ids"],
    }


INDEXES = [("at", {}), ("booking_ids", {}), ("subject", {}), ("seq", {"unique": True, "sparse": True})]


def check(db: Any, checkpoint: tuple[int, str] | None = None) -> tuple[int, str | None]:
    """The whole chained log of this database, verified in order. The chain alone cannot show its
    newest entries removed, so `checkpoint` (seq, MAC), noted outside the database earlier (the
    hourly log line and the `audit_last_seq` gauge), must still be there unchanged."""
    checked, broken = verify(db.audit.find({"seq": {"$exists": True}}).sort("seq", 1), chain_keys())
    if broken:
        return checked, broken
    first = db.audit.find_one({"seq": {"$exists": True}}, {"at": 1}, sort=[("seq", 1)])
    if first is not None:
        # An entry without a number is never shown (GET /audit sorts by it) nor checked: since the
        # chain began, every entry has one, so one without was stripped of it.
        hidden = db.audit.count_documents({"seq": {"$exists": False}, "at": {"$gte": first["at"]}})
        if hidden:
            return checked, f"{hidden} entries without a number since the chain began (hidden from the log)"
    if checkpoint is not None:
        seq, mac = checkpoint
        kept = db.audit.find_one({"seq": seq}, {"mac": 1})
        if kept is None or not hmac.compare_digest(kept["mac"], mac):
            return checked, f"entry {seq} of the checkpoint is gone or changed (the newest entries removed?)"
    return checked, None


def newest(db: Any) -> tuple[int, str] | None:
    """The newest entry's (seq, MAC): a checkpoint to note outside the database."""
    last = db.audit.find_one({"seq": {"$exists": True}}, {"seq": 1, "mac": 1}, sort=[("seq", -1)])
    return (last["seq"], last["mac"]) if last else None
