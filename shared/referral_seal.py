"""Sealing a referral so that only booking can open it (issue 18, item 4; ADR 20).

An outreach channel takes a resident's details in and hands them on; it has no reason to read
them back, nor anyone else's. So it seals them with HPKE (RFC 9180: X25519, HKDF-SHA256,
AES-256-GCM; the `cryptography` package) to booking's public key, bound to the referral id. It holds
that public key only (REFERRAL_PUBLIC_KEY or REFERRAL_PUBLIC_KEY_FILE):

    {"key": "2026-11", "public": "<32 bytes, base64>"}

Booking derives the matching private key from its own data key of that id (HKDF, its own purpose),
so there is no new secret to keep, and a rotation of the data keys rotates this key with them:
`python -m deploy.tools.referral_key` prints the public key to give the channels. A referral
sealed the older way (AES-GCM under the shared data keys) still opens, with the keyring."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.sealing import Keyring, SealError
from shared.settings import env

ALG = "HPKE-X25519-SHA256-A256GCM"
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
PURPOSE = b"mynacar referral key v1"


def private_key(ring: Keyring, key_id: str) -> X25519PrivateKey:
    """Booking's referral key for data key `key_id`, derived (never stored)."""
    data_key = ring.keys.get(key_id)
    if data_key is None:
        raise SealError(f"no data key {key_id!r} to open this referral with")
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(data_key)
    return X25519PrivateKey.from_private_bytes(seed)


def public_document(ring: Keyring) -> dict:
    """What the channels are given: the public half of the active key's referral key."""
    raw = (
        private_key(ring, ring.active)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return {"key": ring.active, "public": base64.b64encode(raw).decode()}


_public: tuple[str, X25519PublicKey] | None = None
_lock = threading.Lock()


def _booking_public_key() -> tuple[str, X25519PublicKey]:
    global _public
    with _lock:
        if _public is None:
            path = env("REFERRAL_PUBLIC_KEY_FILE", "")
            text = env("REFERRAL_PUBLIC_KEY", "") or (Path(path).read_text() if path else "")
            if not text:
                raise SealError("no REFERRAL_PUBLIC_KEY or REFERRAL_PUBLIC_KEY_FILE (booking's public key)")
            document = json.loads(text)
            _public = (document["key"], X25519PublicKey.from_public_bytes(base64.b64decode(document["public"])))
        return _public


def reset() -> None:
    global _public
    with _lock:
        _public = None


def seal(value: Any, record: str) -> dict:
    """`value` sealed to booking's public key, bound to `record` (the referral id)."""
    key_id, public = _booking_public_key()
    plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    sealed = SUITE.encrypt(plain, public, info=record.encode())
    return {"alg": ALG, "key": key_id, "nonce": "", "data": base64.b64encode(sealed).decode()}


def open_sealed(ring: Keyring, sealed: dict, record: str) -> Any:
    """What a channel sealed for booking (or, the older way, with the shared data keys)."""
    if sealed.get("alg") != ALG:
        return ring.open(sealed, record)
    try:
        plain = SUITE.decrypt(base64.b64decode(sealed["data"]), private_key(ring, sealed["key"]), info=record.encode())
    except (InvalidTag, KeyError, ValueError):
        raise SealError("a referral did not open (tampered, or not this referral's)") from None
    return json.loads(plain)
