"""Who asks, on an RPC that returns or changes personal data (issue 18, item 2).

A caller never names the asker in plain words (an `actor` dict anyone can write). It passes one of:
- `{"token": <the staff member's bearer token>, "purpose": ...}`: the call serves a screen a staff
  member is looking at; booking verifies the token as the HTTP edge does (signature, issuer,
  audience, expiry, role) and records the read under the token's subject;
- `{"assertion": <a signed statement>}`: the service itself acts (notification sending a message).
  The calling service signs a short-lived JWT (EdDSA) with its own key, naming itself, the callee,
  the purpose and the booking ids; the callee checks it with the caller's public key. A pod that
  does not hold that service's key cannot make one, and one assertion covers only its bookings
  for a minute.

Keys: SERVICE_KEY_FILE (or SERVICE_KEY), the calling service's private key (PEM, Ed25519);
SERVICE_KEYS_FILE (or SERVICE_KEYS), the callee's JSON of trusted public keys by service name."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from werkzeug.wrappers import Request

from shared import auth
from shared.http import ApiError
from shared.settings import env

ASSERTION_SECONDS = 60
MAX_PURPOSE = 100


class Refused(Exception):
    """No valid identity: the reason is for the metric's label and the log, never for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Asker:
    """Who asked, as verified: what the audit log records."""

    subject: str
    role: str
    purpose: str

    def as_actor(self) -> dict:
        return {"subject": self.subject, "role": self.role, "purpose": self.purpose}


def for_staff(request: Request, purpose: str) -> dict:
    """The identity of the staff member behind this HTTP request, to pass along with an RPC."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return {"token": token.strip() if scheme.lower() == "bearer" else "", "purpose": purpose[:MAX_PURPOSE]}


def _read(inline: str, file_setting: str) -> str:
    path = env(file_setting, "")
    return env(inline, "") or (Path(path).read_text(encoding="utf-8") if path else "")


@cache
def _private_key() -> Any:
    text = _read("SERVICE_KEY", "SERVICE_KEY_FILE")
    if not text:
        raise RuntimeError("no SERVICE_KEY or SERVICE_KEY_FILE: this service cannot speak for itself")
    return serialization.load_pem_private_key(text.encode(), password=None)


@cache
def _trusted() -> dict[str, Any]:
    text = _read("SERVICE_KEYS", "SERVICE_KEYS_FILE")
    keys = json.loads(text) if text else {}
    return {name: serialization.load_pem_public_key(pem.encode()) for name, pem in keys.items()}


def reset() -> None:
    _private_key.cache_clear()
    _trusted.cache_clear()


def for_service(service: str, callee: str, purpose: str, booking_ids: list[str]) -> dict:
    """An assertion that `service` itself asks `callee` about these bookings, for `purpose`."""
    now = int(time.time())
    claims = {
        "iss": service,
        "aud": callee,
        "purpose": purpose[:MAX_PURPOSE],
        "bookings": sorted(booking_ids),
        "iat": now,
        "exp": now + ASSERTION_SECONDS,
        "jti": str(uuid.uuid4()),
    }
    return {"assertion": jwt.encode(claims, _private_key(), algorithm="EdDSA")}


def verify(
    identity: Any,
    callee: str,
    booking_ids: list[str],
    staff_roles: tuple[str, ...] = (),
    services: tuple[str, ...] = (),
) -> Asker:
    """The asker, or Refused. A staff token must hold one of `staff_roles`; an assertion must come
    from one of `services`, be signed with its key, for `callee`, and name every booking asked about."""
    if not isinstance(identity, dict) or len(json.dumps(identity, default=str)) > 8192:
        raise Refused("malformed")
    if set(identity) == {"token", "purpose"}:
        if not staff_roles:
            raise Refused("role")
        return _staff(identity["token"], identity["purpose"], staff_roles)
    if set(identity) == {"assertion"}:
        asker = _service(identity["assertion"], callee, booking_ids)
        if asker.subject.removeprefix("service:") not in services:
            raise Refused("unknown_service")
        return asker
    raise Refused("malformed")


def _staff(token: Any, purpose: Any, roles: tuple[str, ...]) -> Asker:
    if not isinstance(token, str) or not token or not isinstance(purpose, str) or len(purpose) > MAX_PURPOSE:
        raise Refused("malformed")
    try:
        member = auth.verifier().verify(token)
    except ApiError:
        raise Refused("invalid_token") from None
    if not member.has(*roles):
        raise Refused("role")
    return Asker(member.subject, member.role, purpose)


def _service(assertion: Any, callee: str, booking_ids: list[str]) -> Asker:
    if not isinstance(assertion, str):
        raise Refused("malformed")
    try:
        issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
        key = _trusted().get(issuer) if isinstance(issuer, str) else None
        if key is None:
            raise Refused("unknown_service")
        claims = jwt.decode(
            assertion,
            key,
            algorithms=["EdDSA"],
            audience=callee,
            options={"require": ["iss", "aud", "exp", "iat", "purpose", "bookings"]},
        )
    except jwt.PyJWTError:
        raise Refused("invalid_assertion") from None
    if claims["iat"] > time.time() + auth.LEEWAY_SECONDS or claims["exp"] - claims["iat"] > ASSERTION_SECONDS:
        raise Refused("invalid_assertion")
    if not isinstance(claims["bookings"], list) or not set(booking_ids) <= set(claims["bookings"]):
        raise Refused("other_bookings")
    return Asker(f"service:{issuer}", "service", str(claims["purpose"])[:MAX_PURPOSE])
