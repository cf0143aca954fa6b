"""Community-hall chairs (公民館長): volunteers, not city staff, so not in the city's identity
provider. Reception or a manager registers each chair with their hall and the e-mail address the
city knows; a chair signs in with a one-time link sent to that address and then holds a session
token that this channel checks (`Authorization: ChairSession <token>`).

Only digests of links and session tokens are stored, so a copy of the database signs nobody in. The
chair's name and address are sealed (shared.sealing); the address is found by its keyed hash.
Disabling a chair ends their sessions and unused links at once."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from shared import clock, sealing
from shared.auth import Staff

SCHEME = "ChairSession"
LINK_MINUTES = 15
SESSION_HOURS = 12

INDEXES: dict[str, list] = {
    "chairs": [("email_hash", {})],
    "chair_links": [("expires_at", {"expireAfterSeconds": 0})],
    "chair_sessions": [("expires_at", {"expireAfterSeconds": 0}), ("chair_id", {})],
}


@dataclass(frozen=True)
class Chair:
    chair_id: str
    name: str
    email: str
    community_hall: str
    district: str
    active: bool

    def as_staff(self) -> Staff:
        """The chair as the referral endpoints see a caller: the liaison role, scoped to themselves."""
        return Staff(subject=self.chair_id, roles=frozenset({"liaison"}), liaison_id=self.chair_id)

    def view(self) -> dict[str, Any]:
        return {
            "chair_id": self.chair_id,
            "name": self.name,
            "email": self.email,
            "community_hall": self.community_hall,
            "district": self.district,
            "active": self.active,
        }


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def email_hash(email: str) -> str:
    return sealing.keyring().lookup_hash(email.strip().lower())


def _chair(document: dict) -> Chair:
    opened = sealing.keyring().open(document["sealed"], document["_id"])
    return Chair(
        chair_id=document["_id"],
        name=opened["name"],
        email=opened["email"],
        community_hall=document["community_hall"],
        district=document["district"],
        active=document["active"],
    )


def register(db: Any, name: str, email: str, community_hall: str, district: str) -> Chair:
    chair_id = f"chair-{uuid.uuid4().hex[:12]}"
    db.chairs.insert_one(
        {
            "_id": chair_id,
            "sealed": sealing.keyring().seal({"name": name, "email": email}, chair_id),
            "email_hash": email_hash(email),
            "community_hall": community_hall,
            "district": district,
            "active": True,
            "created_at": clock.now(),
        }
    )
    return Chair(chair_id, name, email, community_hall, district, True)


def find(db: Any, chair_id: str) -> Chair | None:
    document = db.chairs.find_one({"_id": chair_id})
    return _chair(document) if document else None


def all_chairs(db: Any) -> list[Chair]:
    return [_chair(document) for document in db.chairs.find({}).sort("created_at", 1)]


def disable(db: Any, chair_id: str) -> Chair | None:
    """No more links, no more sessions; the chair's referrals stay (their neighbours' visits go on)."""
    found = db.chairs.find_one_and_update({"_id": chair_id}, {"$set": {"active": False, "disabled_at": clock.now()}})
    if found is None:
        return None
    db.chair_sessions.delete_many({"chair_id": chair_id})
    db.chair_links.delete_many({"chair_id": chair_id})
    return find(db, chair_id)


def issue_link(db: Any, email: str) -> tuple[Chair, str] | None:
    """A one-time sign-in token for the active chair with this address, or None (the caller says
    the same either way, so the form does not tell who is registered)."""
    document = db.chairs.find_one({"email_hash": email_hash(email), "active": True})
    if document is None:
        return None
    token = secrets.token_urlsafe(32)
    db.chair_links.insert_one(
        {
            "_id": _digest(token),
            "chair_id": document["_id"],
            "expires_at": clock.now() + dt.timedelta(minutes=LINK_MINUTES),
        }
    )
    return _chair(document), token


def redeem_link(db: Any, token: str) -> tuple[Chair, str, dt.datetime] | None:
    """The link's chair and a new session token, once: a used, expired or unknown link, or a
    disabled chair's, gives None."""
    link = db.chair_links.find_one_and_delete({"_id": _digest(token)})
    if link is None or clock.aware(link["expires_at"]) <= clock.now():
        return None
    chair = find(db, link["chair_id"])
    if chair is None or not chair.active:
        return None
    session_token = secrets.token_urlsafe(32)
    expires = clock.now() + dt.timedelta(hours=SESSION_HOURS)
    db.chair_sessions.insert_one({"_id": _digest(session_token), "chair_id": chair.chair_id, "expires_at": expires})
    return chair, session_token, expires


def chair_of_session(db: Any, token: str) -> Chair | None:
    session = db.chair_sessions.find_one({"_id": _digest(token)})
    if session is None or clock.aware(session["expires_at"]) <= clock.now():
        return None
    chair = find(db, session["chair_id"])
    return chair if chair and chair.active else None


def end_session(db: Any, token: str) -> None:
    db.chair_sessions.delete_one({"_id": _digest(token)})
