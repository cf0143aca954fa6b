"""Personal data sealed at rest and in events: AES-256-GCM (the `cryptography` package) under keys
named by id, so keys can be rotated, and keyed hashes (HMAC-SHA256) for the look-ups that need
equality, such as finding a household's earlier bookings by phone number.

Each sealed value names its key and binds the record it belongs to as associated data: a sealed
household copied onto another booking does not open. Only booking, which keeps residents' data, is
given the residents' keys (DATA_KEYS or DATA_KEYS_FILE); an outreach channel has a keyring of its
own for its own records, and seals residents' details to booking's public key (shared.referral_seal):

    {"active": "2026-11", "keys": {"2026-11": "<32 bytes, base64>"}, "hash_key": "<32 bytes, base64>",
     "audit_active": "audit-1", "audit_keys": {"audit-1": "<32 bytes, base64>"}}

The audit keys (optional) are the audit chain's own (shared.audit): each entry names the one it is
signed with, so they rotate apart from the data keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.settings import env

NONCE_BYTES = 12


class SealError(Exception):
    """Keys missing or wrong, or a sealed value that does not open (tampered, or another record's)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    active: str
    hash_key: bytes
    audit_keys: dict[str, bytes] = field(default_factory=dict)
    audit_active: str = ""

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            spec = json.loads(text)
            keys = {key_id: _unb64(value) for key_id, value in spec["keys"].items()}
            audit_keys = {key_id: _unb64(value) for key_id, value in spec.get("audit_keys", {}).items()}
            ring = cls(
                keys=keys,
                active=spec["active"],
                hash_key=_unb64(spec["hash_key"]),
                audit_keys=audit_keys,
                audit_active=spec.get("audit_active", ""),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise SealError(f"the data keys are malformed: {type(error).__name__}") from None
        if ring.active not in keys or any(len(k) != 32 for k in keys.values()) or len(ring.hash_key) < 32:
            raise SealError("the data keys need an active key id among 32-byte keys, and a 32-byte hash key")
        if any(len(k) != 32 for k in audit_keys.values()) or (audit_keys and ring.audit_active not in audit_keys):
            raise SealError("the audit keys need an active key id among 32-byte keys")
        return ring

    @staticmethod
    def generate(key_id: str) -> dict:
        """A fresh key set in the JSON form above (for development and for rotation)."""
        return {
            "active": key_id,
            "keys": {key_id: _b64(os.urandom(32))},
            "hash_key": _b64(os.urandom(32)),
            "audit_active": f"audit-{key_id}",
            "audit_keys": {f"audit-{key_id}": _b64(os.urandom(32))},
        }

    def seal(self, value: Any, record: str) -> dict:
        nonce = os.urandom(NONCE_BYTES)
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        sealed = AESGCM(self.keys[self.active]).encrypt(nonce, data, record.encode())
        return {"key": self.active, "nonce": _b64(nonce), "data": _b64(sealed)}

    def open(self, sealed: dict, record: str) -> Any:
        key = self.keys.get(sealed.get("key", ""))
        if key is None:
            raise SealError(f"no data key {sealed.get('key')!r} (rotated away before re-sealing?)")
        try:
            plain = AESGCM(key).decrypt(_unb64(sealed["nonce"]), _unb64(sealed["data"]), record.encode())
        except (InvalidTag, KeyError, ValueError):
            raise SealError("a sealed value did not open (tampered, or not this record's)") from None
        return json.loads(plain)

    def is_current(self, sealed: dict) -> bool:
        return sealed.get("key") == self.active

    def lookup_hash(self, text: str) -> str:
        """A keyed hash for equality look-ups; without the key it cannot be reversed by trying phone numbers."""
        return hmac.new(self.hash_key, text.encode(), hashlib.sha256).hexdigest()


_keyring: Keyring | None = None
_lock = threading.Lock()


def keyring() -> Keyring:
    global _keyring
    with _lock:
        if _keyring is None:
            text = env("DATA_KEYS", "")
            path = env("DATA_KEYS_FILE", "")
            if not text and path:
                text = Path(path).read_text()
            if not text:
                raise SealError("no data keys: set DATA_KEYS or DATA_KEYS_FILE (see docs/security.md)")
            _keyring = Keyring.from_json(text)
        return _keyring


def reset() -> None:
    """Read the keys again on next use (tests, and after a rotation is rolled out)."""
    global _keyring
    with _lock:
        _keyring = None


# --- key rotation ---------------------------------------------------------------------------------


@dataclass
class Rekeyed:
    resealed: int = 0
    current: int = 0
    changed_meanwhile: int = 0

    def __add__(self, other: Rekeyed) -> Rekeyed:
        return Rekeyed(
            self.resealed + other.resealed,
            self.current + other.current,
            self.changed_meanwhile + other.changed_meanwhile,
        )


def reseal_field(
    collection: Any, field: str, everything: bool = False, hashes: Callable[[Any], dict] | None = None
) -> Rekeyed:
    """Re-seals one sealed field of every document of a collection under the active key (bound to
    the document's id, as sealed), with the keyed hashes `hashes` recomputes from the opened value.
    A document changed since it was read is left alone."""
    ring = keyring()
    result = Rekeyed()
    for document in collection.find({field: {"$ne": None}}, {"outbox": 0}):
        sealed = document.get(field)
        if not sealed or (ring.is_current(sealed) and not everything):
            result.current += 1
            continue
        opened = ring.open(sealed, document["_id"])
        fresh = {field: ring.seal(opened, document["_id"]), **(hashes(opened) if hashes else {})}
        written = collection.update_one({"_id": document["_id"], f"{field}.nonce": sealed["nonce"]}, {"$set": fresh})
        if written.modified_count == 1:
            result.resealed += 1
        else:
            result.changed_meanwhile += 1
    return result
