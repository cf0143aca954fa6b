"""Server-side sessions for the staff screens, in the portal's own MongoDB database.

The browser holds only a random session id (an HttpOnly cookie); the database holds its SHA-256, so
a copy of the database cannot be replayed as a session. Each session has a CSRF token that every
form sends back, an idle limit and an absolute limit (never past the access token's expiry). A
sign-in in progress (the OpenID state, nonce and PKCE verifier) is kept the same way, keyed by the
state, and can be used once."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from shared import clock
from shared.auth import Staff

# The staff menu; "/" is the residents' page.
STAFF_HOME = "/staff"

IDLE_MINUTES = 30
ABSOLUTE_HOURS = 10
SIGN_IN_MINUTES = 10
# Refresh the idle deadline at most this often: a write per page view would be wasted work.
TOUCH_EVERY = dt.timedelta(minutes=1)

INDEXES: dict[str, list] = {
    "sessions": [("expires_at", {"expireAfterSeconds": 0})],
    "sign_ins": [("expires_at", {"expireAfterSeconds": 0})],
}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    id_digest: str
    csrf_token: str
    access_token: str
    staff: Staff
    name: str
    # How the services are called for this session: the city's token (Bearer), or a community-hall
    # chair's session with the liaison channel (ChairSession).
    scheme: str = "Bearer"

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and secrets.compare_digest(token, self.csrf_token)


@dataclass(frozen=True)
class SignIn:
    state: str
    nonce: str
    code_verifier: str
    return_to: str


class Sessions:
    def __init__(self, db: Any, idle_minutes: int = IDLE_MINUTES) -> None:
        self.db = db
        self.idle = dt.timedelta(minutes=idle_minutes)

    # --- sign-in in progress -------------------------------------------------------------

    def begin_sign_in(self, return_to: str) -> SignIn:
        sign_in = SignIn(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
            return_to=return_to if _local_path(return_to) else STAFF_HOME,
        )
        self.db.sign_ins.insert_one(
            {
                "_id": _digest(sign_in.state),
                "nonce": sign_in.nonce,
                "code_verifier": sign_in.code_verifier,
                "return_to": sign_in.return_to,
                "expires_at": clock.now() + dt.timedelta(minutes=SIGN_IN_MINUTES),
            }
        )
        return sign_in

    def take_sign_in(self, state: str) -> SignIn | None:
        """The sign-in this state began, once: a replayed or expired state finds nothing."""
        found = self.db.sign_ins.find_one_and_delete({"_id": _digest(state)})
        if found is None or clock.aware(found["expires_at"]) <= clock.now():
            return None
        return SignIn(state, found["nonce"], found["code_verifier"], found["return_to"])

    # --- sessions ------------------------------------------------------------------------

    def create(
        self, staff: Staff, name: str, access_token: str, token_expires: dt.datetime, scheme: str = "Bearer"
    ) -> tuple[str, Session]:
        """A new session; returns the id for the cookie (shown nowhere else) and the session."""
        session_id = secrets.token_urlsafe(32)
        now = clock.now()
        document = {
            "_id": _digest(session_id),
            "csrf_token": secrets.token_urlsafe(32),
            "access_token": access_token,
            "scheme": scheme,
            "subject": staff.subject,
            "roles": sorted(staff.roles),
            "crew_id": staff.crew_id,
            "liaison_id": staff.liaison_id,
            "name": name,
            "created_at": now,
            "touched_at": now,
            "idle_until": now + self.idle,
            "expires_at": min(token_expires, now + dt.timedelta(hours=ABSOLUTE_HOURS)),
        }
        self.db.sessions.insert_one(document)
        return session_id, _session(document)

    def load(self, session_id: str | None) -> Session | None:
        """The live session this cookie names, its idle deadline moved on; None when there is
        none or it has run out (then it is removed)."""
        if not session_id:
            return None
        digest = _digest(session_id)
        document = self.db.sessions.find_one({"_id": digest})
        if document is None:
            return None
        now = clock.now()
        if clock.aware(document["expires_at"]) <= now or clock.aware(document["idle_until"]) <= now:
            self.db.sessions.delete_one({"_id": digest})
            return None
        if now - clock.aware(document["touched_at"]) >= TOUCH_EVERY:
            self.db.sessions.update_one({"_id": digest}, {"$set": {"touched_at": now, "idle_until": now + self.idle}})
        return _session(document)

    def end(self, session_id: str | None) -> None:
        if session_id:
            self.db.sessions.delete_one({"_id": _digest(session_id)})


def _session(document: dict) -> Session:
    return Session(
        id_digest=document["_id"],
        csrf_token=document["csrf_token"],
        access_token=document["access_token"],
        staff=Staff(
            subject=document["subject"],
            roles=frozenset(document["roles"]),
            crew_id=document.get("crew_id"),
            liaison_id=document.get("liaison_id"),
        ),
        name=document.get("name") or "",
        scheme=document.get("scheme") or "Bearer",
    )


def _local_path(path: str) -> bool:
    """Only a path on this site may be a return target (no //host or scheme: an open redirect)."""
    return path.startswith("/") and not path.startswith("//") and "\\" not in path
