"""Residents' private links (ご本人用のページ): a signed, expiring token naming one booking, sent in
every e-mail; and for residents without e-mail, the booking's reference and a 6-digit code that
reception reads out on the phone and that is exchanged for a token.

Tokens are itsdangerous's timed signatures over the booking id, keyed by a key derived from the
data keys' hash key (no new secret to deploy; rotating the hash key ends every link, which the
next e-mail renews). The code is an HMAC of the booking id under the same key: reception can read
it from the booking without storing it. Wrong codes are counted per booking: after
MAX_CODE_FAILURES the reference is locked for LOCK_MINUTES, so the million codes cannot be tried."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.wrappers import Request, Response

from shared import clock, sealing
from shared.http import ApiError
from shared.settings import env

SCHEME = "BookingLink"
SALT = "mynacar.booking-link"
DEFAULT_LINK_DAYS = 120
CODE_DIGITS = 6
MAX_CODE_FAILURES = 5
LOCK_MINUTES = 60


def _key() -> bytes:
    return hmac.new(sealing.keyring().hash_key, b"mynacar booking link v1", hashlib.sha256).digest()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_key(), salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})


def link_days() -> int:
    return int(env("LINK_DAYS", str(DEFAULT_LINK_DAYS)))


def token_for(booking_id: str) -> str:
    return str(_serializer().dumps(booking_id))


def phone_code(booking_id: str) -> str:
    digest = hmac.new(_key(), f"code:{booking_id}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


# The audit log's actor for a resident using their own link (no staff member, no name).
ACTOR = {"subject": "resident-link", "role": "resident"}


def gone() -> ApiError:
    return ApiError(
        404,
        "not_found",
        "This booking is no longer kept.",
        "このお申し込みの記録は、保存期間を過ぎたため残っていません。",
    )


CHALLENGE = {"WWW-Authenticate": f'{SCHEME} realm="mynacar"'}


def expired() -> ApiError:
    return ApiError(
        401,
        "link_expired",
        "This link has expired. Ask the office for a new one.",
        "このリンクは有効期限が切れています。お手数ですが、市役所の担当窓口へお問い合わせください。",
        headers=CHALLENGE,
    )


def invalid() -> ApiError:
    return ApiError(
        401,
        "link_invalid",
        "This link is not valid. Check that it was copied whole.",
        "このリンクは正しくありません。メールのリンクを最後までそのまま開いてください。",
        headers=CHALLENGE,
    )


def booking_id_of(token: str) -> str:
    """The booking a token names; ApiError 401 (expired or invalid) otherwise."""
    try:
        booking_id = _serializer().loads(token, max_age=link_days() * 86400)
    except SignatureExpired:
        raise expired() from None
    except BadSignature:
        raise invalid() from None
    if not isinstance(booking_id, str):
        raise invalid()
    return booking_id


def wrong_code() -> ApiError:
    return ApiError(
        401,
        "code_wrong",
        "The reference or the code is wrong.",
        "受付番号または確認コードが違います。お手元の控えをご確認ください。",
        headers=CHALLENGE,
    )


def locked(until: dt.datetime) -> ApiError:
    minutes = max(1, int((until - clock.now()).total_seconds() // 60) + 1)
    return ApiError(
        429,
        "code_locked",
        "Too many wrong codes for this reference; try again later.",
        f"確認コードの誤りが続いたため、一時的に受け付けを止めています。{minutes}分ほど後にお試しください。",
        headers={"Retry-After": str(minutes * 60)},
    )


def exchange_code(db: Any, reference: str, code: str) -> str:
    """A token for the booking with `reference` if `code` is its phone code. Wrong codes count
    towards the booking's lock; an unknown reference answers like a wrong code."""
    booking = db.bookings.find_one({"reference": reference}, {"_id": 1, "personal": 1, "link_lock": 1})
    if booking is None or not booking.get("personal"):
        raise wrong_code()
    now = clock.now()
    lock = booking.get("link_lock") or {}
    if lock.get("until") and clock.aware(lock["until"]) > now:
        raise locked(clock.aware(lock["until"]))
    if hmac.compare_digest(phone_code(booking["_id"]), code):
        db.bookings.update_one({"_id": booking["_id"]}, {"$unset": {"link_lock": ""}})
        return token_for(booking["_id"])
    failures = int(lock.get("failures", 0)) + 1
    update: dict[str, Any] = {"link_lock.failures": failures}
    if failures >= MAX_CODE_FAILURES:
        update = {"link_lock": {"failures": 0, "until": now + dt.timedelta(minutes=LOCK_MINUTES)}}
    db.bookings.update_one({"_id": booking["_id"]}, {"$set": update})
    if failures >= MAX_CODE_FAILURES:
        raise locked(now + dt.timedelta(minutes=LOCK_MINUTES))
    raise wrong_code()


def bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != SCHEME or not token.strip():
        raise invalid()
    return token.strip()


def resident(handler: Callable[..., Response]) -> Callable[..., Response]:
    """A resident's own booking, by the link token in `Authorization: BookingLink <token>`; hands
    the handler the booking id (`booking_id=`). Under @api and @public (rate-limited)."""

    @functools.wraps(handler)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        return handler(self, request, *args, booking_id=booking_id_of(bearer(request)), **kwargs)

    return wrapper
